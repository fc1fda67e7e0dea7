"""The alert log in the hub's embedded SQLite database (table ``alert_log``): every time an alert
fired or cleared, kept across hub restarts so operators can read what happened and when.
``server.shared_state.alert_log.RedisAlertLog`` is the same log in Redis, shared by every hub
(``open_alert_log`` picks one)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from server.monitoring.alerts import Transition

log = logging.getLogger("formsync.hub.alerts")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ns   INTEGER NOT NULL,
    since_ns  INTEGER NOT NULL,
    rule      TEXT NOT NULL,
    subject   TEXT NOT NULL,
    level     TEXT NOT NULL,
    state     TEXT NOT NULL CHECK (state IN ('firing', 'cleared')),
    value     REAL,
    threshold REAL,
    message   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_log_by_alert ON alert_log (rule, subject, id);
"""
_COLUMNS = ("id", "rule", "subject", "level", "state", "value", "threshold", "time_ns", "since_ns", "message")


class AlertLog:
    """Append-only log of alert transitions. Thread-safe; every method blocks on SQLite, so call it
    from a thread (``asyncio.to_thread`` or a plain ``def`` route).

    Args:
        path: SQLite file (its folder is created; shared with other tables of the hub), or
            ``":memory:"``.
        timeout_s: how long to wait for a lock held by another connection.
    Raises:
        sqlite3.Error: the file cannot be opened at all.
    """

    def __init__(self, path: str | Path, timeout_s: float = 2.0) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=timeout_s, check_same_thread=False,
                                   isolation_level=None)
        # WAL: readers (the alerts route) never wait for the monitor's writes, nor the other way.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def append(self, transitions: Iterable[Transition]) -> int:
        """Record transitions in one transaction; returns how many were recorded (all here; the
        Redis log skips those another hub recorded already)."""
        rows = [(t.time_ns, t.since_ns, t.rule, t.subject, t.level, t.state, t.value, t.threshold, t.message)
                for t in transitions]
        if not rows:
            return 0
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO alert_log (time_ns, since_ns, rule, subject, level, state, value, threshold,"
                " message) VALUES (?,?,?,?,?,?,?,?,?)", rows)
        return len(rows)

    shared = False
    """This hub's own log: every transition it records is its own to announce."""

    def record(self, transitions: Iterable[Transition]) -> list[Transition]:
        """``append``, returning the transitions recorded (all of them here)."""
        items = list(transitions)
        self.append(items)
        return items

    def recent(self, limit: int = 100) -> list[dict]:
        """The newest ``limit`` entries, newest first, as ``AlertEventOut`` dicts."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM alert_log ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [dict(zip(_COLUMNS, r, strict=True)) for r in rows]

    def firing(self) -> list[dict]:
        """Alerts whose latest entry is ``firing``: what was active when the last hub stopped."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM alert_log WHERE id IN "
                "(SELECT MAX(id) FROM alert_log GROUP BY rule, subject) AND state = 'firing' ORDER BY id"
            ).fetchall()
        return [dict(zip(_COLUMNS, r, strict=True)) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_alert_log(db_path: str | Path, redis_url: str | None):
    """In Redis with ``redis_url`` (``FORMSYNC_HUB_REDIS_URL``), else SQLite at ``db_path``. Blocks:
    call from a thread."""
    if redis_url is None:
        return AlertLog(db_path)
    from server.shared_state.alert_log import RedisAlertLog
    from server.shared_state.connection import connect_sync

    return RedisAlertLog(connect_sync(redis_url), owns_client=True)
