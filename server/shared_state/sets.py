"""``SetStore`` in Redis (``server.set_store`` has the behaviour): any hub serves any camera's sets.

Keys (``{p}`` = ``formsync:``):

- ``{p}set-live``: hash camera -> JSON of its live set (open, or its last closed one);
- ``{p}sets``: hash set_id -> JSON of a closed set (one entry per set whatever the PUTs of it);
- ``{p}sets-by-end``: sorted set of closed set ids scored by ``ended_at_ns``; ``{p}sets-by-end:{camera}``
  the same per camera (``GET /sets?camera_id=``). Scores are doubles: ends closer than ~256 ns may
  list in either order, nothing else.

A PUT is one Lua script, so across hubs an open update never reopens a closed set and a closed
set written late never replaces another set in progress or one that ended later
(``server.set_store.replaces_live``). Closed sets must survive a Redis restart:
run Redis with ``appendonly yes`` (README, "Running with Redis"). A closed set Redis cannot take
(unreachable, restarting) stays in this hub's memory, listed and readable here, until ``retry``
writes it; an open update raises instead (a 503: the worker sends its next one anyway).

Methods block on Redis (like the embedded store's on SQLite): call them from a thread.
"""

from __future__ import annotations

import logging
import threading

import orjson
import redis

from server.set_store import now_iso
from server.shared_state.connection import REDIS_DOWN

log = logging.getLogger("formsync.hub.sets")

PREFIX = "formsync:"

_PUT = """
local live_key, sets_key, by_end, by_camera = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local camera, set_id, status, body, ended = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local closed = redis.call('HGET', sets_key, set_id)
if status == 'open' then
  if closed then return closed end
  redis.call('HSET', live_key, camera, body)
  return body
end
redis.call('HSET', sets_key, set_id, body)
redis.call('ZADD', by_end, ended, set_id)
redis.call('ZADD', by_camera, ended, set_id)
local live = redis.call('HGET', live_key, camera)
if live then
  local cur = cjson.decode(live)
  if cur.set_id ~= set_id and (cur.status ~= 'closed' or tonumber(cur.ended_at_ns) > tonumber(ended)) then
    return body
  end
end
redis.call('HSET', live_key, camera, body)
return body
"""


class RedisSetStore:
    """Args:
        client: from ``server.shared_state.connection.connect_sync`` (closed here if ``owns_client``).
    """

    def __init__(self, client: redis.Redis, *, prefix: str = PREFIX, owns_client: bool = False) -> None:
        self._redis = client
        self._owns = owns_client
        self._prefix = prefix
        self._live_key, self._sets_key, self._by_end = f"{prefix}set-live", f"{prefix}sets", f"{prefix}sets-by-end"
        self._put = client.register_script(_PUT)
        self._lock = threading.Lock()  # guards the two fields below; never held across I/O
        self._unsaved: dict[str, dict] = {}
        self._last_error: str | None = None

    def _write(self, item: dict, pipe=None) -> bytes:
        keys = [self._live_key, self._sets_key, self._by_end, f"{self._by_end}:{item['camera_id']}"]
        args = [item["camera_id"], item["set_id"], item["status"], orjson.dumps(item),
                str(int(item.get("ended_at_ns") or 0))]
        return self._put(keys=keys, args=args, client=pipe)

    def put(self, camera_id: str, body: dict) -> tuple[dict, str | None]:
        item = {**body, "camera_id": camera_id, "saved_at": None}
        if body["status"] != "closed":
            return orjson.loads(self._write(item)), None
        item["saved_at"] = now_iso()
        with self._lock:
            self._unsaved[item["set_id"]] = item
        error = self._flush()
        return item, error

    def _flush(self) -> str | None:
        with self._lock:
            pending = dict(self._unsaved)
        if not pending:
            return None
        try:
            pipe = self._redis.pipeline(transaction=False)
            for item in pending.values():
                self._write(item, pipe)
            pipe.execute()
        except REDIS_DOWN as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("could not save %d set(s) in Redis, keeping them in memory: %s", len(pending), exc)
            with self._lock:
                self._last_error = error
            return error
        with self._lock:
            # A set updated while this write ran stays unsaved: the newer body is not in Redis.
            for set_id, item in pending.items():
                if self._unsaved.get(set_id) is item:
                    del self._unsaved[set_id]
            self._last_error = None
        return None

    @property
    def unsaved(self) -> int:
        return len(self._unsaved)

    @property
    def last_error(self) -> str | None:
        error = self._last_error
        return error if self._unsaved else None

    def retry(self) -> str | None:
        return self._flush() if self._unsaved else None

    def _pending(self, camera_id: str | None = None) -> list[dict]:
        with self._lock:
            return [s for s in self._unsaved.values() if camera_id in (None, s["camera_id"])]

    def live(self, camera_id: str) -> dict | None:
        raw = self._redis.hget(self._live_key, camera_id)
        stored = None if raw is None else orjson.loads(raw)
        pending = max(self._pending(camera_id), key=lambda s: s["ended_at_ns"], default=None)
        if pending is None:
            return stored
        if stored is None or stored["set_id"] == pending["set_id"] or \
                (stored["status"] == "closed" and stored["ended_at_ns"] < pending["ended_at_ns"]):
            return pending
        return stored

    def list(self, limit: int = 50, camera_id: str | None = None) -> list[dict]:
        key = self._by_end if camera_id is None else f"{self._by_end}:{camera_id}"
        ids = self._redis.zrevrange(key, 0, limit - 1)
        found = [orjson.loads(raw) for raw in (self._redis.hmget(self._sets_key, ids) if ids else []) if raw]
        merged = {s["set_id"]: s for s in found + self._pending(camera_id)}
        return sorted(merged.values(), key=lambda s: s["ended_at_ns"], reverse=True)[:limit]

    def get(self, set_id: str) -> dict | None:
        with self._lock:
            pending = self._unsaved.get(set_id)
        if pending is not None:
            return pending
        raw = self._redis.hget(self._sets_key, set_id)
        return None if raw is None else orjson.loads(raw)

    def close(self) -> None:
        if self._unsaved:
            self._flush()
        if self._owns:
            self._redis.close()
