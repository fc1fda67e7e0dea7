"""The alert log in Redis (``server.monitoring.alert_log`` has the behaviour): every hub writes to
and reads one log, and a restarted hub resumes what any hub left firing.

Keys (``{p}`` = ``formsync:``):

- ``{p}alert-log-id``: the last entry id (``INCRBY``: ids are unique and increasing across hubs);
- ``{p}alert-log``: sorted set of entries (JSON, ``AlertEventOut``'s fields) scored by id, the
  newest ``KEEP`` kept;
- ``{p}alert-latest``: hash ``rule NUL subject`` -> that alert's newest entry (``firing``).

An append reserves its ids, then one Lua script adds the entries, trims the log and keeps each
alert's newest entry. Every hub evaluates the rules on what it sees, so an alert on a shared subject
(a lost process, a stale camera) fires on each hub: an entry whose alert's newest entry already
has its state (another hub logged that firing or clearing) is skipped, so the log has one entry
per change, and ids may skip. The log is history
to keep: run Redis with ``appendonly yes``. Methods block on Redis: call them from a thread.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
import redis

from server.monitoring.alerts import Transition

PREFIX = "formsync:"
KEEP = 10_000
"""Entries the log keeps (about a week of a busy site's transitions); older ones are dropped."""

_APPEND = """
local log, latest, keep = KEYS[1], KEYS[2], tonumber(ARGV[1])
local added = {}
for i = 2, #ARGV, 4 do
  local id, alert, state, entry = tonumber(ARGV[i]), ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local cur = redis.call('HGET', latest, alert)
  local known = cur and cjson.decode(cur)
  if not known or (known.id < id and known.state ~= state) then
    redis.call('ZADD', log, id, entry)
    redis.call('HSET', latest, alert, entry)
    added[#added + 1] = (i + 2) / 4
  end
end
redis.call('ZREMRANGEBYRANK', log, 0, -(keep + 1))
return added
"""


class RedisAlertLog:
    """Args:
        client: from ``server.shared_state.connection.connect_sync`` (closed here if ``owns_client``).
    """

    def __init__(self, client: redis.Redis, *, prefix: str = PREFIX, keep: int = KEEP,
                 owns_client: bool = False) -> None:
        self._redis = client
        self._owns = owns_client
        self._keep = keep
        self._ids, self._log, self._latest = f"{prefix}alert-log-id", f"{prefix}alert-log", f"{prefix}alert-latest"
        self._append = client.register_script(_APPEND)

    shared = True
    """One log for every hub: a hub announces only the transitions it recorded."""

    def append(self, transitions: Iterable[Transition]) -> int:
        return len(self.record(transitions))

    def record(self, transitions: Iterable[Transition]) -> list[Transition]:
        """Record what no hub recorded yet; returns those transitions."""
        items = list(transitions)
        if not items:
            return []
        last = self._redis.incrby(self._ids, len(items))
        args: list = [self._keep]
        for id_, t in zip(range(last - len(items) + 1, last + 1), items, strict=True):
            entry = {"id": id_, "rule": t.rule, "subject": t.subject, "level": t.level, "state": t.state,
                     "value": t.value, "threshold": t.threshold, "time_ns": t.time_ns, "since_ns": t.since_ns,
                     "message": t.message}
            args += [id_, f"{t.rule}\0{t.subject}", t.state, orjson.dumps(entry)]
        taken = self._append(keys=[self._log, self._latest], args=args)
        return [items[int(k) - 1] for k in taken]

    def recent(self, limit: int = 100) -> list[dict]:
        return [orjson.loads(raw) for raw in self._redis.zrevrange(self._log, 0, limit - 1)]

    def firing(self) -> list[dict]:
        entries = [orjson.loads(raw) for raw in self._redis.hvals(self._latest)]
        return sorted((e for e in entries if e["state"] == "firing"), key=lambda e: e["id"])

    def close(self) -> None:
        if self._owns:
            self._redis.close()
