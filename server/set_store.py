"""Set summaries: the live (open) set per camera in memory, closed sets in the embedded SQLite db.

A closed set that cannot be written (disk full, database locked) stays in memory and is written
on the next save or read; nothing a worker sent is lost while the hub runs.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger("formsync.hub.sets")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sets (
    set_id      TEXT PRIMARY KEY,
    camera_id   TEXT NOT NULL,
    ended_at_ns INTEGER NOT NULL,
    saved_at    TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sets_by_end ON sets (ended_at_ns DESC);
"""


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class SetStore:
    """Thread-safe; every method blocks on SQLite, so call it from a thread (plain ``def`` routes).

    Args:
        path: SQLite file (its folder is created); ``":memory:"`` for a throwaway store.
        timeout_s: how long to wait for a lock held by another connection before giving up.
    Raises sqlite3.Error at construction when the file cannot be opened at all.
    """

    def __init__(self, path: str | Path, timeout_s: float = 2.0) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=timeout_s, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._live: dict[str, dict] = {}
        self._unsaved: dict[str, dict] = {}
        self._last_error: str | None = None

    def put(self, camera_id: str, body: dict) -> tuple[dict, str | None]:
        """Record a set (``SetIn`` dump). Open sets only replace the camera's live set; closed ones
        are written. Returns (stored set with camera_id and saved_at, error text or None)."""
        item = {**body, "camera_id": camera_id, "saved_at": None}
        with self._lock:
            self._live[camera_id] = item
            if body["status"] != "closed":
                return item, None
            item["saved_at"] = _now_iso()
            self._unsaved[item["set_id"]] = item
            return item, self._flush()

    def _flush(self) -> str | None:
        """Write every unsaved closed set; the lock is held. Returns the error, if any."""
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO sets (set_id, camera_id, ended_at_ns, saved_at, body) VALUES (?,?,?,?,?)",
                    [(s["set_id"], s["camera_id"], s["ended_at_ns"], s["saved_at"], json.dumps(s))
                     for s in self._unsaved.values()])
        except sqlite3.Error as exc:
            log.warning("could not save %d set(s), keeping them in memory: %s", len(self._unsaved), exc)
            self._last_error = f"{type(exc).__name__}: {exc}"
            return self._last_error
        self._unsaved.clear()
        self._last_error = None
        return None

    @property
    def unsaved(self) -> int:
        with self._lock:
            return len(self._unsaved)

    @property
    def last_error(self) -> str | None:
        """Why the last write failed while sets are still unsaved (e.g. ``OperationalError: database
        or disk is full``); None once everything is written."""
        with self._lock:
            return self._last_error if self._unsaved else None

    def retry(self) -> str | None:
        """Write the sets held in memory, if any; returns the error, or None once all are saved."""
        with self._lock:
            return self._flush() if self._unsaved else None

    def live(self, camera_id: str) -> dict | None:
        with self._lock:
            return self._live.get(camera_id)

    def list(self, limit: int = 50, camera_id: str | None = None) -> list[dict]:
        """Closed sets, newest end first (unsaved ones included)."""
        with self._lock:
            if self._unsaved:
                self._flush()
            sql, args = "SELECT body FROM sets", []
            if camera_id is not None:
                sql, args = sql + " WHERE camera_id = ?", [camera_id]
            rows = self._db.execute(sql + " ORDER BY ended_at_ns DESC LIMIT ?", [*args, limit]).fetchall()
            found = [json.loads(r[0]) for r in rows]
            pending = [s for s in self._unsaved.values() if camera_id in (None, s["camera_id"])]
        merged = {s["set_id"]: s for s in found + pending}
        return sorted(merged.values(), key=lambda s: s["ended_at_ns"], reverse=True)[:limit]

    def get(self, set_id: str) -> dict | None:
        with self._lock:
            if set_id in self._unsaved:
                return self._unsaved[set_id]
            row = self._db.execute("SELECT body FROM sets WHERE set_id = ?", [set_id]).fetchone()
        return None if row is None else json.loads(row[0])

    def close(self) -> None:
        with self._lock:
            if self._unsaved:
                self._flush()
            self._db.close()
