"""The latest heartbeat of every process, and which ones are lost.

``HeartbeatRegistry`` keeps them in this hub's memory; ``server.shared_state.heartbeats``
shares them between hubs through Redis (a local copy, written through and refreshed by ``sync``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(slots=True)
class _Entry:
    body: dict  # a HeartbeatIn dump; replaced, never mutated
    received_ns: int
    count: int = 1
    lost_since_ns: int | None = None


class HeartbeatRegistry:
    """Thread-safe map process id -> latest heartbeat.

    A process is lost once ``lost_after`` of its own intervals passed without a heartbeat
    (``now - received > lost_after * interval_s``). Lost processes stay listed (the operator sees
    what went missing) until they send again or are forgotten.

    Args:
        lost_after: missed intervals before a process counts as lost (>= 1).
    """

    def __init__(self, lost_after: int = 3) -> None:
        if lost_after < 1:
            raise ValueError("lost_after must be >= 1")
        self.lost_after = lost_after
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def record(self, body: dict, now_ns: int) -> tuple[dict, bool, bool]:
        """Store a heartbeat. Returns ``(view, is_new, was_lost)``: its ``HeartbeatOut`` view, whether
        the process is new to this hub, and whether it had been lost (now back)."""
        pid = body["process_id"]
        with self._lock:
            old = self._entries.get(pid)
            entry = _Entry(body, now_ns, (old.count + 1) if old else 1)
            self._entries[pid] = entry
            view = self._view(entry, now_ns)
        return view, old is None, old is not None and old.lost_since_ns is not None

    def _deadline_ns(self, entry: _Entry) -> int:
        return entry.received_ns + int(self.lost_after * entry.body["interval_s"] * 1e9)

    def check_lost(self, now_ns: int) -> list[dict]:
        """Mark processes past their deadline as lost; returns the newly lost (their views)."""
        newly = []
        with self._lock:
            for entry in self._entries.values():
                if entry.lost_since_ns is None and now_ns > self._deadline_ns(entry):
                    entry.lost_since_ns = now_ns
                    newly.append(self._view(entry, now_ns))
        return newly

    def _view(self, entry: _Entry, now_ns: int) -> dict:
        lost = entry.lost_since_ns is not None or now_ns > self._deadline_ns(entry)
        return {**entry.body, "received_time_ns": entry.received_ns,
                "age_s": round(max(0, now_ns - entry.received_ns) / 1e9, 3), "lost": lost,
                "lost_since_ns": entry.lost_since_ns, "heartbeats_total": entry.count}

    def snapshot(self, now_ns: int) -> list[dict]:
        """Every process's view, sorted by role then id."""
        with self._lock:
            views = [self._view(e, now_ns) for e in self._entries.values()]
        return sorted(views, key=lambda v: (v["role"], v["process_id"]))

    def forget(self, process_id: str) -> bool:
        """Drop a process (e.g. a camera machine retired on purpose); False when unknown."""
        with self._lock:
            return self._entries.pop(process_id, None) is not None

    async def sync(self, now_ns: int) -> None:
        """Share with other hubs (the monitor calls it before ``check_lost``); nothing to share here."""
