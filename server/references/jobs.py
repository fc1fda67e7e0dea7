"""Reference build jobs: the Coach page asks for a reference built from a video, one worker builds it.

A job goes ``queued`` -> ``running`` (one worker claimed it) -> ``done`` | ``failed``. Claiming is
atomic, so exactly one worker runs a job. The worker reports its progress (frames done / total),
which also renews its lease: a running job that hears nothing from its worker for ``lease_s`` is
queued again for another worker (``expire``), at most ``attempts`` times in all, after which it
fails as ``worker_lost``. Reports from a worker that no longer holds the job are refused
(``JobConflict``), so a worker that was given up on cannot finish a job another one now runs.

``ReferenceJobQueue`` is what the routes use; ``EmbeddedJobQueue`` keeps the jobs in memory, each
change written to the hub's SQLite database (jobs survive a restart), and each job's video in
``<video_dir>/<job_id>.video`` until the job ends. Job dicts are
``formsync.wire.references.ReferenceJob`` dumps.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

log = logging.getLogger("formsync.hub.reference_jobs")

KEEP_ENDED = 50
"""Ended jobs kept for the Coach page's history (older ones are forgotten at start)."""


class JobNotFound(KeyError):
    pass


class JobConflict(Exception):
    """A report on a job the worker does not hold (any more), or one that already ended."""

    def __init__(self, message: str, job: dict) -> None:
        super().__init__(message)
        self.job = job


class ReferenceJobQueue(Protocol):
    """Thread-safe; every method may block on storage (call from a thread). ``video_dir``: where
    the hub receives an upload before ``submit`` takes the file over (same file system)."""

    video_dir: Path

    def submit(self, name: str, source: str, video: Path) -> dict:
        """Queue a build of reference ``name`` from the video file at ``video``, which the queue
        takes over (moves into its own storage)."""

    def claim(self, worker_id: str) -> dict | None:
        """Give the oldest queued job to ``worker_id`` (state running); None when none is queued."""

    def video(self, job_id: str) -> Path | None:
        """The job's video while the job has not ended; None otherwise."""

    def progress(self, job_id: str, worker_id: str, frames_done: int, frames_total: int | None) -> dict:
        """Record progress (and renew the lease). Raises JobNotFound, JobConflict."""

    def finish(self, job_id: str, worker_id: str, content_hash: str) -> dict:
        """The job built the reference with ``content_hash``. Raises JobNotFound, JobConflict."""

    def fail(self, job_id: str, worker_id: str, code: str, message: str) -> dict:
        """The job failed with ``code``. Raises JobNotFound, JobConflict."""

    def get(self, job_id: str) -> dict | None: ...

    def list(self, limit: int = 20) -> list[dict]:
        """Newest first."""

    def expire(self, now_ns: int | None = None) -> list[dict]:
        """Queue again (or fail as ``worker_lost``) the running jobs whose lease ran out; returns them."""

    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS reference_jobs (
    job_id           TEXT PRIMARY KEY,
    created_time_ns  INTEGER NOT NULL,
    body             TEXT NOT NULL
);
"""
ENDED = ("done", "failed")


class EmbeddedJobQueue:
    """``ReferenceJobQueue`` in memory, written through to SQLite (``db_path``) on every change.

    Args:
        lease_s: a running job's worker must report at least this often.
        attempts: workers a job is given to before it fails as ``worker_lost``.
        clock: ns since the epoch (tests pass their own).
    """

    def __init__(self, db_path: str | Path, video_dir: str | Path, *, lease_s: float = 60.0,
                 attempts: int = 2, timeout_s: float = 5.0, clock: Callable[[], int] = time.time_ns) -> None:
        self.video_dir = Path(video_dir)
        self.video_dir.mkdir(parents=True, exist_ok=True)
        self.lease_ns = int(lease_s * 1e9)
        self.attempts = attempts
        self._clock = clock
        memory = str(db_path) == ":memory:"
        if not memory:
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(db_path), timeout=timeout_s, check_same_thread=False,
                                   isolation_level=None)
        if not memory:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()  # held across the write of a change: claims must not interleave
        rows = self._db.execute("SELECT body FROM reference_jobs ORDER BY created_time_ns").fetchall()
        self._jobs: dict[str, dict] = {}
        for (body,) in rows:
            job = json.loads(body)
            self._jobs[job["job_id"]] = job
        self._forget_old()
        for path in self.video_dir.iterdir():  # videos of jobs that ended or were never queued
            job = self._jobs.get(path.stem)
            if path.suffix != ".video" or job is None or job["state"] in ENDED:
                path.unlink(missing_ok=True)

    def _forget_old(self) -> None:
        ended = [j for j in self._jobs.values() if j["state"] in ENDED]
        old = sorted(ended, key=lambda j: j["created_time_ns"])[:max(0, len(ended) - KEEP_ENDED)]
        if old:
            with self._db:
                self._db.executemany("DELETE FROM reference_jobs WHERE job_id = ?", [(j["job_id"],) for j in old])
            for j in old:
                del self._jobs[j["job_id"]]

    def _video_path(self, job_id: str) -> Path:
        return self.video_dir / f"{job_id}.video"

    def _save(self, job: dict) -> dict:
        """Write ``job`` (under the lock) and make it current; returns a copy for the caller."""
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO reference_jobs (job_id, created_time_ns, body) VALUES (?,?,?)",
                             (job["job_id"], job["created_time_ns"], json.dumps(job)))
        self._jobs[job["job_id"]] = job
        return dict(job)

    def submit(self, name: str, source: str, video: Path) -> dict:
        job_id = uuid.uuid4().hex
        now = self._clock()
        size = video.stat().st_size
        os.replace(video, self._video_path(job_id))
        job = {"job_id": job_id, "name": name, "source": source, "state": "queued", "video_bytes": size,
               "worker_id": None, "frames_done": 0, "frames_total": None, "attempts": 0,
               "content_hash": None, "error": None, "created_time_ns": now, "updated_time_ns": now}
        with self._lock:
            try:
                return self._save(job)
            except sqlite3.Error:
                self._video_path(job_id).unlink(missing_ok=True)
                raise

    def claim(self, worker_id: str) -> dict | None:
        with self._lock:
            queued = [j for j in self._jobs.values() if j["state"] == "queued"]
            if not queued:
                return None
            job = min(queued, key=lambda j: j["created_time_ns"])
            return self._save({**job, "state": "running", "worker_id": worker_id, "attempts": job["attempts"] + 1,
                               "frames_done": 0, "updated_time_ns": self._clock()})

    def video(self, job_id: str) -> Path | None:
        job = self._jobs.get(job_id)
        path = self._video_path(job_id)
        return path if job is not None and job["state"] not in ENDED and path.exists() else None

    def _held(self, job_id: str, worker_id: str) -> dict:
        job = self._jobs.get(job_id)
        if job is None:
            raise JobNotFound(job_id)
        if job["state"] != "running" or job["worker_id"] != worker_id:
            raise JobConflict(f"job {job_id} is {job['state']}"
                              + (f" for worker {job['worker_id']}" if job["worker_id"] else ""), dict(job))
        return job

    def progress(self, job_id: str, worker_id: str, frames_done: int, frames_total: int | None) -> dict:
        with self._lock:
            job = self._held(job_id, worker_id)
            return self._save({**job, "frames_done": frames_done, "frames_total": frames_total or None,
                               "updated_time_ns": self._clock()})

    def _end(self, job: dict, **fields) -> dict:
        out = self._save({**job, **fields, "updated_time_ns": self._clock()})
        self._video_path(job["job_id"]).unlink(missing_ok=True)
        return out

    def finish(self, job_id: str, worker_id: str, content_hash: str) -> dict:
        with self._lock:
            job = self._held(job_id, worker_id)
            done = job["frames_total"] or job["frames_done"]
            return self._end(job, state="done", content_hash=content_hash, frames_done=done)

    def fail(self, job_id: str, worker_id: str, code: str, message: str) -> dict:
        with self._lock:
            job = self._held(job_id, worker_id)
            return self._end(job, state="failed", error={"code": code, "message": message})

    def get(self, job_id: str) -> dict | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else dict(job)

    def list(self, limit: int = 20) -> list[dict]:
        with self._lock:
            jobs = sorted(self._jobs.values(), key=lambda j: j["created_time_ns"], reverse=True)
            return [dict(j) for j in jobs[:limit]]

    def expire(self, now_ns: int | None = None) -> list[dict]:
        now = self._clock() if now_ns is None else now_ns
        changed = []
        with self._lock:
            for job in list(self._jobs.values()):
                if job["state"] != "running" or now - job["updated_time_ns"] < self.lease_ns:
                    continue
                if job["attempts"] >= self.attempts:
                    log.warning("reference job %s (%s) failed: %d worker(s) stopped answering",
                                job["job_id"], job["name"], job["attempts"])
                    changed.append(self._end(job, state="failed", error={
                        "code": "worker_lost",
                        "message": f"{job['attempts']} worker(s) took the job and stopped answering"}))
                else:
                    log.warning("reference job %s (%s): worker %s stopped answering; queued again",
                                job["job_id"], job["name"], job["worker_id"])
                    changed.append(self._save({**job, "state": "queued", "worker_id": None, "frames_done": 0,
                                               "updated_time_ns": now}))
        return changed

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_job_queue(settings) -> ReferenceJobQueue:
    """The hub's queue for ``settings`` (``HubSettings``): in Redis with ``redis_url``, else embedded
    (SQLite in ``db_path``); videos under ``reference_root / "jobs"`` either way."""
    video_dir = settings.reference_root / "jobs"
    if settings.redis_url is None:
        return EmbeddedJobQueue(settings.db_path, video_dir, lease_s=settings.reference_job_lease_s,
                                attempts=settings.reference_job_attempts)
    from server.shared_state.connection import connect_sync
    from server.shared_state.reference_jobs import RedisJobQueue

    return RedisJobQueue(connect_sync(settings.redis_url), video_dir, lease_s=settings.reference_job_lease_s,
                         attempts=settings.reference_job_attempts, owns_client=True)
