"""Heartbeats shared by every hub through Redis: a process seen by any hub is listed by all, and
one hub announces it lost.

The registry keeps ``HeartbeatRegistry``'s interface and its local copy, so ``record``,
``snapshot`` and ``check_lost`` stay dict reads on the event loop (the monitor, the metrics scrape
and the heartbeat route call them there). ``sync`` (each monitor round, ``monitor_interval_s``)
writes the heartbeats this hub received since the last round and reads every hub's back, in one
pipeline; a process's entry is the newest by receive time. So another hub's view lags by at most
one round (1 s), well inside a lost deadline (3 intervals of 2 s).

Keys (``{p}`` = ``formsync:``): ``{p}heartbeats``, hash process id -> JSON ``{"body", "received_ns"}``
(written by a Lua script that keeps the newer); ``{p}heartbeat-count``, hash process id -> heartbeats
received by all hubs; ``{p}heartbeat-lost:{process}:{received_ns}``, ``SET NX`` by the hub that
announces that silence (one ``process_lost`` event across hubs). Heartbeats are live state, not
history: a Redis restart empties them until the next round of heartbeats (2 s).
"""

from __future__ import annotations

import logging
import os
import socket

import orjson
from redis.asyncio import Redis

from server.monitoring.heartbeats import HeartbeatRegistry, _Entry
from server.shared_state.connection import REDIS_DOWN

log = logging.getLogger("formsync.hub.monitor")

PREFIX = "formsync:"
LOST_MARK_MS = 600_000
"""How long the mark of an announced silence is kept, ms: longer than any monitor round."""

_WRITE = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local new = ARGV[2]
if cur then
  local t = cjson.decode(cur).received_ns_text
  if t and (#t > #new or (#t == #new and t > new)) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""


class RedisHeartbeatRegistry(HeartbeatRegistry):
    """Args:
        lost_after: as ``HeartbeatRegistry``'s.
        client: the hub's Redis client (``app.state.redis``; the caller closes it).
    """

    def __init__(self, lost_after: int, client: Redis, *, prefix: str = PREFIX) -> None:
        super().__init__(lost_after)
        self._redis = client
        self._key, self._counts = f"{prefix}heartbeats", f"{prefix}heartbeat-count"
        self._lost = f"{prefix}heartbeat-lost:"
        self._write = client.register_script(_WRITE)
        self._outbox: dict[str, _Entry] = {}
        self._received: dict[str, int] = {}  # heartbeats this hub took since the last sync, per process
        self._forgotten: set[str] = set()
        self._announce: list[dict] = []
        self._me = f"{socket.gethostname()}:{os.getpid()}"

    def record(self, body: dict, now_ns: int) -> tuple[dict, bool, bool]:
        view, is_new, was_lost = super().record(body, now_ns)
        pid = body["process_id"]
        with self._lock:
            self._outbox[pid] = self._entries[pid]
            self._received[pid] = self._received.get(pid, 0) + 1
            self._forgotten.discard(pid)
        return view, is_new, was_lost

    def forget(self, process_id: str) -> bool:
        known = super().forget(process_id)
        with self._lock:
            self._outbox.pop(process_id, None)
            self._received.pop(process_id, None)
            self._forgotten.add(process_id)
        return known

    def check_lost(self, now_ns: int) -> list[dict]:
        """The processes this hub announces lost (elected in the last ``sync``); marks them all."""
        super().check_lost(now_ns)
        with self._lock:
            announce, self._announce = self._announce, []
        return announce

    async def sync(self, now_ns: int) -> None:
        with self._lock:
            outbox, self._outbox = self._outbox, {}
            received, self._received = self._received, {}
            forgotten, self._forgotten = self._forgotten, set()
        try:
            await self._exchange(outbox, received, forgotten, now_ns)
        except REDIS_DOWN as exc:  # keep what was not written for the next round
            log.warning("heartbeats not shared (Redis unavailable): %s", exc)
            with self._lock:
                self._outbox = {**outbox, **self._outbox}
                for pid, n in received.items():
                    self._received[pid] = self._received.get(pid, 0) + n
                self._forgotten |= forgotten

    async def _exchange(self, outbox: dict[str, _Entry], received: dict[str, int], forgotten: set[str],
                        now_ns: int) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for pid, entry in outbox.items():
            body = orjson.dumps({"body": entry.body, "received_ns": entry.received_ns,
                                 "received_ns_text": str(entry.received_ns)})
            await self._write(keys=[self._key], args=[pid, str(entry.received_ns), body], client=pipe)
        for pid, n in received.items():
            pipe.hincrby(self._counts, pid, n)
        if forgotten:
            pipe.hdel(self._key, *forgotten)
            pipe.hdel(self._counts, *forgotten)
        pipe.hgetall(self._key)
        pipe.hgetall(self._counts)
        *_, shared, counts = await pipe.execute()
        self._merge(shared, counts)
        newly = self._newly_lost(now_ns)
        if not newly:
            return
        pipe = self._redis.pipeline(transaction=False)
        for view in newly:
            pipe.set(f"{self._lost}{view['process_id']}:{view['received_time_ns']}", self._me, nx=True,
                     px=LOST_MARK_MS)
        won = await pipe.execute()
        with self._lock:
            self._announce += [view for view, mine in zip(newly, won, strict=True) if mine]

    def _merge(self, shared: dict[bytes, bytes], counts: dict[bytes, bytes]) -> None:
        with self._lock:
            for raw_pid, raw in shared.items():
                pid = raw_pid.decode()
                item = orjson.loads(raw)
                count = int(counts.get(raw_pid, 1))
                mine = self._entries.get(pid)
                if mine is None or item["received_ns"] > mine.received_ns:
                    self._entries[pid] = _Entry(item["body"], item["received_ns"], count)
                else:
                    mine.count = max(mine.count, count)
            for pid in set(self._entries) - {k.decode() for k in shared} - set(self._outbox):
                del self._entries[pid]  # forgotten through another hub

    def _newly_lost(self, now_ns: int) -> list[dict]:
        """Views of processes past their deadline and not yet marked lost here (not marked yet)."""
        with self._lock:
            return [self._view(e, now_ns) for e in self._entries.values()
                    if e.lost_since_ns is None and now_ns > self._deadline_ns(e)]
