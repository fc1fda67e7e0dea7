"""Set summaries: each camera's live set and the closed sets.

``SetStore`` is what the routes use. ``EmbeddedSetStore`` keeps the live (open) set per camera in
memory and closed sets in the embedded SQLite db; ``server.shared_state.sets.RedisSetStore`` keeps
both in Redis (any hub serves any camera's sets).

A closed set that cannot be written (disk full, database locked) stays in memory and is written
on the next save or by the hub's retry (``server/recovery.py``); nothing a worker sent is lost
while the hub runs.

Readers never wait on a writer. What lives in memory (live sets, unsaved sets, the last error)
is published as immutable snapshots swapped under a lock that is never held across I/O, so
``live``, ``unsaved`` and ``last_error`` are safe on the event loop. SQLite writes are serialised
by a second lock that only writer threads take; reads of the database go through a connection of
their own (one, under its own lock: the thread pool's threads come and go, and a connection per
thread would outlive them with its page cache), and WAL journaling lets them proceed while a write
(or another process's lock) is in progress.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

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
_EMPTY: Mapping[str, dict] = MappingProxyType({})


def now_iso() -> str:
    """``saved_at`` of a set: UTC, to the second, ``...Z``."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class SetStore(Protocol):
    """Thread-safe. ``put``, ``live``, ``retry``, ``list``, ``get`` and ``close`` may block on
    storage (SQLite, Redis): call them from a thread (plain ``def`` routes, ``run_in_threadpool``).
    ``unsaved`` and ``last_error`` read memory only and never block. Set dicts are ``SetIn`` dumps
    with ``camera_id`` and ``saved_at`` (ISO 8601 UTC, None while open).

    A closed set is stored once by its ``set_id`` whatever the number of PUTs of it (a worker
    retrying after a lost answer); a closed set the storage refuses stays in this process's memory,
    listed and readable, and is written by ``retry`` (the hub's recovery loop) or the next ``put``.
    """

    def put(self, camera_id: str, body: dict) -> tuple[dict, str | None]:
        """Record a set. Open sets only replace the camera's live set; closed ones are written.
        Returns (stored set, error text or None). An open body for a set already closed is ignored
        and the closed one returned."""

    def live(self, camera_id: str) -> dict | None:
        """The camera's live set (open, or its last closed one); None before its first."""

    @property
    def unsaved(self) -> int:
        """Closed sets held in memory because the storage refused them (or is being written)."""

    @property
    def last_error(self) -> str | None:
        """Why the last write failed while sets are still unsaved; None once everything is written."""

    def retry(self) -> str | None:
        """Write the sets held in memory, if any; returns the error, or None once all are saved."""

    def list(self, limit: int = 50, camera_id: str | None = None) -> list[dict]:
        """Closed sets, newest end first (unsaved ones included, from memory)."""

    def get(self, set_id: str) -> dict | None:
        """One closed set; None when unknown."""

    def close(self) -> None:
        """Write what is unsaved (once more) and release connections."""


def replaces_live(current: dict | None, closed: dict) -> bool:
    """Whether a closed set becomes its camera's live set: unless the live one is another set
    still in progress, or another set that ended later (ends are the camera's capture times, one
    clock per camera). The Redis store's put script applies the same rule."""
    if current is None or current["set_id"] == closed["set_id"]:
        return True
    if current["status"] != "closed":
        return False
    return int(current.get("ended_at_ns") or 0) <= int(closed.get("ended_at_ns") or 0)


def open_set_store(db_path: str | Path, redis_url: str | None) -> SetStore:
    """Redis-backed with ``redis_url`` (``FORMSYNC_HUB_REDIS_URL``), else SQLite at ``db_path``."""
    if redis_url is None:
        return EmbeddedSetStore(db_path)
    from server.shared_state.connection import connect_sync
    from server.shared_state.sets import RedisSetStore

    return RedisSetStore(connect_sync(redis_url), owns_client=True)


class EmbeddedSetStore:
    """``SetStore`` on SQLite. ``live`` reads memory only and never blocks.

    Args:
        path: SQLite file (its folder is created); ``":memory:"`` for a throwaway store.
        timeout_s: how long a write waits for a lock held by another connection before giving up
            (the set then stays in memory, see the module docstring).
    Raises sqlite3.Error at construction when the file cannot be opened at all.
    """

    def __init__(self, path: str | Path, timeout_s: float = 2.0) -> None:
        self._path = str(path)
        self._memory = self._path == ":memory:"
        if not self._memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._timeout_s = timeout_s
        self._db = self._connect()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._write_lock = threading.Lock()  # held across SQLite writes; never taken on the event loop
        self._state_lock = threading.Lock()  # only swaps the snapshots below; never held across I/O
        self._read_lock = threading.Lock()  # held across SQLite reads; never taken on the event loop
        # One in-memory database per connection: reads of ":memory:" share the writer's.
        self._reader = self._db if self._memory else self._connect()
        self._live: Mapping[str, dict] = _EMPTY
        self._unsaved: Mapping[str, dict] = _EMPTY
        self._last_error: str | None = None
        self._closed = False

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, timeout=self._timeout_s, check_same_thread=False,
                               isolation_level=None)

    def put(self, camera_id: str, body: dict) -> tuple[dict, str | None]:
        """Record a set (``SetIn`` dump). Open sets only replace the camera's live set; closed ones
        are written. Returns (stored set with camera_id and saved_at, error text or None).

        A set's updates may arrive again (a worker retrying after a lost answer): an open body for
        a set already closed here is ignored and the closed one returned. A closed set arriving
        late (from a worker's spool, or a worker cut off from the hub while another took the
        camera over) is stored but stays out of the live slot when another set is newer there
        (``replaces_live``)."""
        item = {**body, "camera_id": camera_id, "saved_at": None}
        closed = body["status"] == "closed"
        with self._state_lock:
            current = self._live.get(camera_id)
            if not closed and current is not None and current["set_id"] == body["set_id"] \
                    and current["status"] == "closed":
                return current, None
            if closed:
                item["saved_at"] = now_iso()
                self._unsaved = MappingProxyType({**self._unsaved, item["set_id"]: item})
            if not closed or replaces_live(current, item):
                self._live = MappingProxyType({**self._live, camera_id: item})
        return item, (self._flush() if closed else None)

    def _flush(self) -> str | None:
        """Write every unsaved closed set (in a writer thread). Returns the error, if any."""
        with self._write_lock:
            pending = self._unsaved
            if not pending:
                return None
            try:
                with self._db:
                    self._db.executemany(
                        "INSERT OR REPLACE INTO sets (set_id, camera_id, ended_at_ns, saved_at, body) "
                        "VALUES (?,?,?,?,?)",
                        [(s["set_id"], s["camera_id"], s["ended_at_ns"], s["saved_at"], json.dumps(s))
                         for s in pending.values()])
            except sqlite3.Error as exc:
                log.warning("could not save %d set(s), keeping them in memory: %s", len(pending), exc)
                error = f"{type(exc).__name__}: {exc}"
                with self._state_lock:
                    self._last_error = error
                return error
            with self._state_lock:
                # A set updated while this write ran stays unsaved: the newer body is not on disk.
                left = {k: v for k, v in self._unsaved.items() if pending.get(k) is not v}
                self._unsaved = MappingProxyType(left) if left else _EMPTY
                self._last_error = None
        return None

    @property
    def unsaved(self) -> int:
        """Closed sets held in memory because the database refused them (or is being written)."""
        return len(self._unsaved)

    @property
    def last_error(self) -> str | None:
        """Why the last write failed while sets are still unsaved (e.g. ``OperationalError: database
        or disk is full``); None once everything is written."""
        error = self._last_error
        return error if self._unsaved else None

    def retry(self) -> str | None:
        """Write the sets held in memory, if any; returns the error, or None once all are saved."""
        return self._flush() if self._unsaved else None

    def live(self, camera_id: str) -> dict | None:
        """The camera's live set (open, or its last closed one); None before its first."""
        return self._live.get(camera_id)

    def _query(self, sql: str, args: list) -> list[tuple]:
        with self._write_lock if self._memory else self._read_lock:
            return self._reader.execute(sql, args).fetchall()

    def list(self, limit: int = 50, camera_id: str | None = None) -> list[dict]:
        """Closed sets, newest end first (unsaved ones included, from memory)."""
        pending = [s for s in self._unsaved.values() if camera_id in (None, s["camera_id"])]
        sql, args = "SELECT body FROM sets", []
        if camera_id is not None:
            sql, args = sql + " WHERE camera_id = ?", [camera_id]
        rows = self._query(sql + " ORDER BY ended_at_ns DESC LIMIT ?", [*args, limit])
        found = [json.loads(r[0]) for r in rows]
        merged = {s["set_id"]: s for s in found + pending}
        return sorted(merged.values(), key=lambda s: s["ended_at_ns"], reverse=True)[:limit]

    def get(self, set_id: str) -> dict | None:
        pending = self._unsaved.get(set_id)
        if pending is not None:
            return pending
        rows = self._query("SELECT body FROM sets WHERE set_id = ?", [set_id])
        return json.loads(rows[0][0]) if rows else None

    def close(self) -> None:
        """Write what is unsaved (once more) and close every connection."""
        if self._closed:
            return
        self._closed = True
        if self._unsaved:
            self._flush()
        with self._write_lock, self._read_lock:
            if self._reader is not self._db:
                self._reader.close()
            self._db.close()
