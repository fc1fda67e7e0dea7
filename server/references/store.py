"""Stored references and the chosen one.

``ReferenceStore`` is what the routes use; ``server.shared_state.references.RedisReferenceStore``
keeps everything in Redis (several hubs); ``EmbeddedReferenceStore`` keeps the metadata and the
chosen reference in the hub's SQLite database and each reference's per-frame data and pictures in
files::

    <reference_dir>/stored/<name>/<version>/arrays.npz        the per-frame data (its SHA-256: the content hash)
    <reference_dir>/stored/<name>/<version>/frames/<seq>.jpg  one picture per video frame

A new version is written into ``<name>/.incoming-<version>/``, renamed into place, and only then
made current by one SQLite transaction, after which the previous version's folder is removed: a
reader sees the old reference or the new one, never half of one, and a hub stopped anywhere in
between restarts with one of them whole (folders no row points to are removed at start).
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from formsync.reference_bundle import DATA_FILE, FRAMES_DIR, Bundle

log = logging.getLogger("formsync.hub.references")


@dataclass(frozen=True)
class Blob:
    """Bytes of one stored reference (its data or a picture) with the content hash of the version
    they belong to."""

    content_hash: str
    body: bytes


class ReferenceStore(Protocol):
    """Stored references by name, and the chosen one. Thread-safe. Every method may touch disk or a
    server (Redis): call them from a thread. Metadata dicts are ``formsync.wire.references.ReferenceMeta``
    dumps."""

    def list(self) -> list[dict]:
        """Every stored reference's metadata, by name."""

    def get(self, name: str) -> dict | None:
        """Metadata of ``name``; None when there is no such reference."""

    def data(self, name: str) -> Blob | None:
        """The current version's per-frame data (``arrays.npz``); None when unknown."""

    def picture(self, name: str, seq: int) -> Blob | None:
        """The current version's picture of video frame ``seq``; None when it has none."""

    def put(self, bundle: Bundle) -> dict:
        """Store a checked bundle as reference ``bundle.content.name``, replacing any of that name
        whole. Returns its metadata. Raises OSError / sqlite3.Error when it cannot be stored (the
        previous version then stays current)."""

    def chosen(self) -> str | None:
        """The chosen reference's name; None until one is chosen."""

    def choose(self, name: str) -> dict:
        """Make ``name`` the chosen reference (kept across restarts); returns its metadata.
        Raises KeyError for an unknown name."""

    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS stored_references (
    name            TEXT PRIMARY KEY,
    version         TEXT NOT NULL,
    meta            TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chosen_reference (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    name            TEXT NOT NULL,
    chosen_time_ns  INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class _Entry:
    meta: dict
    version: str


class EmbeddedReferenceStore:
    """``ReferenceStore`` on SQLite (``db_path``, shared with the set store) and files under
    ``root`` (``<reference_dir>/stored``, layout in the module docstring; nothing else may live
    there). Metadata is served from an immutable snapshot swapped under a lock that is never held
    across I/O (``list``, ``get`` and ``chosen`` never block); writes are serialised by a second lock.

    Raises sqlite3.Error / OSError at construction when the database or folder cannot be opened.
    """

    def __init__(self, db_path: str | Path, root: str | Path, timeout_s: float = 5.0) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        memory = str(db_path) == ":memory:"
        if not memory:
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(db_path), timeout=timeout_s, check_same_thread=False,
                                   isolation_level=None)
        if not memory:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._write_lock = threading.Lock()
        self._state_lock = threading.Lock()
        rows = self._db.execute("SELECT name, version, meta FROM stored_references").fetchall()
        self._entries: Mapping[str, _Entry] = MappingProxyType(
            {name: _Entry(json.loads(meta), version) for name, version, meta in rows})
        row = self._db.execute("SELECT name FROM chosen_reference WHERE id = 1").fetchone()
        self._chosen: str | None = row[0] if row else None
        self._remove_strays()

    def _remove_strays(self) -> None:
        """Folders no stored reference points to: an upload interrupted by a stop, or a replaced
        version whose removal was."""
        for folder in self.root.iterdir():
            if not folder.is_dir() or folder.name.startswith("."):
                continue
            entry = self._entries.get(folder.name)
            for version in folder.iterdir():
                if entry is None or version.name != entry.version:
                    shutil.rmtree(version, ignore_errors=True)
            if entry is None:
                shutil.rmtree(folder, ignore_errors=True)

    # -- reads -------------------------------------------------------------------------------
    def list(self) -> list[dict]:
        entries = self._entries
        return [entries[name].meta for name in sorted(entries)]

    def get(self, name: str) -> dict | None:
        entry = self._entries.get(name)
        return None if entry is None else entry.meta

    def chosen(self) -> str | None:
        return self._chosen

    def data(self, name: str) -> Blob | None:
        return self._read(name, lambda folder: folder / DATA_FILE)

    def picture(self, name: str, seq: int) -> Blob | None:
        return self._read(name, lambda folder: folder / FRAMES_DIR / f"{int(seq)}.jpg")

    def _read(self, name: str, where) -> Blob | None:
        # A version replaced between the look-up and the read is gone from disk: look up again once.
        for _ in range(2):
            entry = self._entries.get(name)
            if entry is None:
                return None
            try:
                body = where(self.root / name / entry.version).read_bytes()
            except FileNotFoundError:
                current = self._entries.get(name)
                if current is not None and current.version != entry.version:
                    continue
                return None
            return Blob(entry.meta["content_hash"], body)
        return None

    # -- writes ------------------------------------------------------------------------------
    def put(self, bundle: Bundle) -> dict:
        content = bundle.content
        name, version = content.name, uuid.uuid4().hex
        folder = self.root / name
        incoming = folder / f".incoming-{version}"
        try:
            (incoming / FRAMES_DIR).mkdir(parents=True)
            (incoming / DATA_FILE).write_bytes(bundle.data)
            for seq, jpeg in bundle.frames.items():
                (incoming / FRAMES_DIR / f"{seq}.jpg").write_bytes(jpeg)
            incoming.rename(folder / version)
        except OSError:
            shutil.rmtree(incoming, ignore_errors=True)
            raise
        meta = {**content.model_dump(mode="json"), "content_hash": bundle.content_hash,
                "data_bytes": len(bundle.data), "pictures": len(bundle.frames),
                "created_time_ns": time.time_ns()}
        with self._write_lock:
            try:
                with self._db:
                    self._db.execute("INSERT OR REPLACE INTO stored_references (name, version, meta) "
                                     "VALUES (?, ?, ?)", (name, version, json.dumps(meta)))
            except sqlite3.Error:
                shutil.rmtree(folder / version, ignore_errors=True)
                raise
            with self._state_lock:
                old = self._entries.get(name)
                self._entries = MappingProxyType({**self._entries, name: _Entry(meta, version)})
        if old is not None:
            shutil.rmtree(folder / old.version, ignore_errors=True)
        log.info("reference %s stored: %d frames, %d pictures, hash %s", name, content.frames,
                 len(bundle.frames), bundle.content_hash[:12])
        return meta

    def choose(self, name: str) -> dict:
        with self._write_lock:
            meta = self.get(name)
            if meta is None:
                raise KeyError(name)
            with self._db:
                self._db.execute("INSERT OR REPLACE INTO chosen_reference (id, name, chosen_time_ns) "
                                 "VALUES (1, ?, ?)", (name, time.time_ns()))
            self._chosen = name
        return meta

    def close(self) -> None:
        with self._write_lock:
            self._db.close()


def open_reference_store(settings) -> ReferenceStore:
    """The hub's store for ``settings`` (``HubSettings``): in Redis with ``redis_url``, else embedded
    (SQLite in ``db_path``, files under ``reference_root / "stored"``)."""
    if settings.redis_url is None:
        return EmbeddedReferenceStore(settings.db_path, settings.reference_root / "stored")
    from server.shared_state.connection import connect_sync
    from server.shared_state.references import RedisReferenceStore

    return RedisReferenceStore(connect_sync(settings.redis_url), owns_client=True)
