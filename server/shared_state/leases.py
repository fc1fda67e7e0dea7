"""``LeaseStore`` in Redis (``server.leases`` has the behaviour): any hub grants any camera.

Each operation is one Lua script, so a grant, a renewal or a release is atomic across hubs:

- ``{p}lease:{camera}``: the holder (``"worker_id instance"``), ``SET ... PX ttl`` (a ``SET NX PX``
  that also checks the worker's load and capacity);
- ``{p}lease-last``: hash camera -> last holder, deleted by the holder's release (takeover);
- ``{p}worker:{holder}``: the worker's ``max_cameras``, ``PX ttl`` (liveness);
  ``{p}worker-cams:{holder}``: the cameras it was granted (pruned of those it no longer holds);
- ``{p}workers``: the set of holders seen (pruned of those no longer live);
- ``{p}lease-wanted:{camera}``: when (Redis ``TIME``, ms) a free camera was first refused as
  ``balanced`` (``server.leases.BALANCE_GRACE_MS``).

Leases live as long as their lifetime and are never persisted on purpose: after a Redis restart
every worker's renewal finds its leases lost and asks again, which is what a fresh start needs.
"""

from __future__ import annotations

from redis.asyncio import Redis

from server.leases import BALANCE_GRACE_MS, Grant, _lease, _load, holder_of, split_holder

PREFIX = "formsync:"

_COMMON = """
local p = ARGV[1]
local function load(h)
  local n = 0
  for _, c in ipairs(redis.call('SMEMBERS', p .. 'worker-cams:' .. h)) do
    if redis.call('GET', p .. 'lease:' .. c) == h then n = n + 1
    else redis.call('SREM', p .. 'worker-cams:' .. h, c) end
  end
  return n
end
local function alive(h, maxc, ttl)
  redis.call('SET', p .. 'worker:' .. h, maxc, 'PX', ttl)
  redis.call('SADD', p .. 'workers', h)
end
"""

_ACQUIRE = _COMMON + """
local cam, me, ttl, maxc, grace = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local key = p .. 'lease:' .. cam
local holder = redis.call('GET', key)
if holder and holder ~= me then return {'held', holder, redis.call('PTTL', key)} end
alive(me, maxc, ttl)
if holder then
  redis.call('PEXPIRE', key, ttl)
  return {'renewed'}
end
local mine = load(me)
if mine >= maxc then return {'worker_full'} end
for _, other in ipairs(redis.call('SMEMBERS', p .. 'workers')) do
  if other ~= me then
    local theirs_max = redis.call('GET', p .. 'worker:' .. other)
    if not theirs_max then
      redis.call('SREM', p .. 'workers', other)
      redis.call('DEL', p .. 'worker-cams:' .. other)
    else
      local theirs = load(other)
      if theirs < mine and theirs < tonumber(theirs_max) then
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local wanted = p .. 'lease-wanted:' .. cam
        redis.call('SET', wanted, now, 'NX', 'PX', 3 * grace)  -- a camera back later waits again
        if now - tonumber(redis.call('GET', wanted)) < grace then return {'balanced', other} end
        break
      end
    end
  end
end
redis.call('DEL', p .. 'lease-wanted:' .. cam)
redis.call('SET', key, me, 'PX', ttl)
redis.call('SADD', p .. 'worker-cams:' .. me, cam)
local previous = redis.call('HGET', p .. 'lease-last', cam)
redis.call('HSET', p .. 'lease-last', cam, me)
return {'granted', previous or ''}
"""

_RENEW = _COMMON + """
local me, ttl, maxc = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
alive(me, maxc, ttl)
local held, lost = {}, {}
for i = 5, #ARGV do
  local key = p .. 'lease:' .. ARGV[i]
  if redis.call('GET', key) == me then
    redis.call('PEXPIRE', key, ttl)
    held[#held + 1] = ARGV[i]
  else
    redis.call('SREM', p .. 'worker-cams:' .. me, ARGV[i])
    lost[#lost + 1] = ARGV[i]
  end
end
return {held, lost}
"""

# Compare and delete: only the holder frees its lease.
_RELEASE = """
local p, cam, me = ARGV[1], ARGV[2], ARGV[3]
local key = p .. 'lease:' .. cam
if redis.call('GET', key) ~= me then return 0 end
redis.call('DEL', key)
redis.call('SREM', p .. 'worker-cams:' .. me, cam)
if redis.call('HGET', p .. 'lease-last', cam) == me then redis.call('HDEL', p .. 'lease-last', cam) end
return 1
"""

_SNAPSHOT = _COMMON + """
local leases, workers = {}, {}
for _, h in ipairs(redis.call('SMEMBERS', p .. 'workers')) do
  local maxc = redis.call('GET', p .. 'worker:' .. h)
  for _, c in ipairs(redis.call('SMEMBERS', p .. 'worker-cams:' .. h)) do
    local key = p .. 'lease:' .. c
    if redis.call('GET', key) == h then leases[#leases + 1] = {c, h, redis.call('PTTL', key)} end
  end
  if maxc then workers[#workers + 1] = {h, load(h), tonumber(maxc)} end
end
return {leases, workers}
"""


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisLeaseStore:
    """Args:
        redis: a ``redis.asyncio`` client (``server.shared_state.connection.connect``).
        prefix: key prefix (several FormSync installations may share one Redis).
        owns_client: ``close`` closes ``redis`` too.

    Raises ``redis.exceptions.ConnectionError``/``TimeoutError`` when Redis cannot be reached (the
    hub answers 503, ``server.shared_state.connection``)."""

    def __init__(self, redis: Redis, prefix: str = PREFIX, owns_client: bool = False) -> None:
        self._redis = redis
        self._owns_client = owns_client
        self._prefix = prefix
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._snapshot = redis.register_script(_SNAPSHOT)

    async def acquire(self, camera_id, worker_id, instance, ttl_ms, max_cameras) -> Grant:
        reply = await self._acquire(args=[self._prefix, camera_id, holder_of(worker_id, instance), ttl_ms,
                                          max_cameras, BALANCE_GRACE_MS])
        outcome = _s(reply[0])
        if outcome == "held":
            return Grant(False, "held", split_holder(_s(reply[1]))[0], max(0, int(reply[2])))
        if outcome == "renewed":
            return Grant(True, None, worker_id, ttl_ms, renewed=True)
        if outcome == "worker_full":
            return Grant(False, "worker_full")
        if outcome == "balanced":
            return Grant(False, "balanced", split_holder(_s(reply[1]))[0])
        previous = _s(reply[1])
        lost_by = split_holder(previous)[0] if previous and previous != holder_of(worker_id, instance) else None
        return Grant(True, None, worker_id, ttl_ms, lost_by)

    async def renew(self, worker_id, instance, camera_ids, ttl_ms, max_cameras):
        held, lost = await self._renew(args=[self._prefix, holder_of(worker_id, instance), ttl_ms, max_cameras,
                                             *camera_ids])
        return [_s(c) for c in held], [_s(c) for c in lost]

    async def release(self, camera_id, worker_id, instance) -> bool:
        return bool(await self._release(args=[self._prefix, camera_id, holder_of(worker_id, instance)]))

    async def _read(self):
        return await self._snapshot(args=[self._prefix])

    async def leases(self) -> list[dict]:
        leases, _ = await self._read()
        return sorted((_lease(_s(c), _s(h), min(60_000, max(0, int(ttl)))) for c, h, ttl in leases),
                      key=lambda item: item["camera_id"])

    async def workers(self) -> list[dict]:
        _, workers = await self._read()
        return sorted((_load(_s(h), int(n), int(m)) for h, n, m in workers), key=lambda item: item["worker_id"])

    async def close(self) -> None:
        if self._owns_client:
            await self._redis.aclose()
