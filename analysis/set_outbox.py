"""Getting each camera's sets to the hub: in order, exactly once, through hub outages and restarts.

``SetOutbox`` is one camera's queue of ``SetIn`` bodies (``analysis.sets.set_to_wire``) with the only task
that sends them: ``PUT /api/v1/cameras/{id}/set``, one at a time, in the order they were queued.
A body leaves the queue only when the hub acknowledged it (200), or when the hub refused it as
invalid (422 and other 4xx but 401/403/408/429), which resending never fixes (logged with its
set id). Anything else (no connection, a timeout, 5xx, a token or rate refusal) is retried with
``formsync.retry.reconnect_delays`` (0.25-10 s, jittered) for as long as the worker runs.

An open body only describes a set in progress, so a newer body of the same set replaces one still
waiting; a closed body is never replaced nor dropped. The hub stores sets by ``set_id``, so a body
sent twice (its answer lost) is stored once.

``SetSpool`` keeps closed bodies on disk until acknowledged, one JSON file per set, written by
atomic rename: a worker stopped or killed while the hub is down sends them when it starts again.
Its folder is per worker id and hub address (``default_spool_dir``), so a spool never reaches
another hub.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from analysis.paths import REPO_ROOT
from formsync.hub_client import HubClient, HubRejected, HubUnreachable
from formsync.retry import reconnect_delays
from formsync.wire.sets import SetIn

log = logging.getLogger("formsync.worker.sets")

SPOOL_ENV = "FORMSYNC_WORKER_SPOOL_DIR"
RETRIED_STATUSES = frozenset({401, 403, 408, 429})  # refusals a later try can pass (token, rate)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.@-]")


def default_spool_dir(worker_id: str, hub_url: str) -> Path:
    """``$FORMSYNC_WORKER_SPOOL_DIR`` (default ``<repo>/var/worker-sets``) ``/<worker_id>@<host>_<port>``."""
    root = Path(os.environ.get(SPOOL_ENV, REPO_ROOT / "var" / "worker-sets"))
    url = urlsplit(hub_url)
    hub = f"{url.hostname or 'hub'}_{url.port or (443 if url.scheme == 'https' else 80)}"
    return root / _UNSAFE.sub("-", f"{worker_id}@{hub}")


@dataclass(frozen=True)
class Spooled:
    camera_id: str
    body: SetIn


class SetSpool:
    """Closed set bodies not yet acknowledged by the hub, one file per set in ``folder``.

    Thread-safe (each call touches one file; writes are atomic renames). Blocking: call from the
    analysis thread or ``asyncio.to_thread``, not on the event loop.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, camera_id: str, set_id: str) -> Path:
        return self.folder / f"{camera_id}--{set_id}.json"

    def keep(self, camera_id: str, body: SetIn) -> None:
        """Write ``body`` (a closed set); an OSError is logged, the set still goes out from memory."""
        path = self._path(camera_id, body.set_id)
        tmp = path.with_suffix(".tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"camera_id": camera_id, "body": body.model_dump(mode="json")}))
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("[%s] set %s not spooled to %s (%s); it is still sent from memory",
                        camera_id, body.set_id, self.folder, exc)

    def forget(self, camera_id: str, set_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(camera_id, set_id).unlink()

    def load(self) -> list[Spooled]:
        """Every spooled set, oldest end first; unreadable files (or bodies the contract no longer
        takes) are logged and left in place."""
        found = []
        for path in sorted(self.folder.glob("*--*.json")) if self.folder.is_dir() else ():
            try:
                item = json.loads(path.read_text())
                found.append(Spooled(str(item["camera_id"]), SetIn.model_validate(item["body"])))
            except (OSError, ValueError, KeyError, TypeError) as exc:  # ValidationError is a ValueError
                log.warning("spooled set %s unreadable, left in place: %.300s", path, exc)
        return sorted(found, key=lambda s: s.body.ended_at_ns)


class SetOutbox:
    """One camera's set bodies, sent by one task (``run``). ``put`` and ``run`` on the worker's event
    loop only.

    Args:
        camera_id: the camera whose sets these are.
        spool: where closed bodies wait for their acknowledgement (None: memory only).
        delays: backoff factory (tests pass short ones).
    """

    def __init__(self, camera_id: str, spool: SetSpool | None = None, delays=reconnect_delays) -> None:
        self.camera_id = camera_id
        self.spool = spool
        self._delays = delays
        self._queue: collections.deque[SetIn] = collections.deque()
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.sent = 0
        self.refused = 0
        self.retries = 0
        self.last_error: str | None = None

    def __len__(self) -> int:
        """Bodies not yet acknowledged (the one in flight included)."""
        return len(self._queue)

    @property
    def pending_closed(self) -> int:
        return sum(b.status == "closed" for b in self._queue)

    def put(self, body: SetIn) -> None:
        """Queue ``body``; an open body of the same set still waiting is dropped first."""
        sid = body.set_id
        if any(b.set_id == sid and b.status == "open" for b in self._queue):
            self._queue = collections.deque(b for b in self._queue if not (b.set_id == sid and b.status == "open"))
        self._queue.append(body)
        self._idle.clear()
        self._ready.set()

    async def drained(self, timeout_s: float) -> bool:
        """Wait until every queued body is acknowledged (or refused); False on timeout."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        return self._idle.is_set()

    async def run(self, hub: HubClient) -> None:
        """Send until cancelled. Never raises for hub trouble."""
        delays: Iterator[float] | None = None
        while True:
            if not self._queue:
                self._idle.set()
                self._ready.clear()
                await self._ready.wait()
                continue
            body = self._queue[0]
            done, error = await self._send(hub, body)
            if not done:
                self.retries += 1
                if delays is None:
                    log.warning("[%s] set %s not sent (%s); retrying with backoff, kept until the hub has it",
                                self.camera_id, body.set_id, error)
                    delays = self._delays()
                self.last_error = error
                await asyncio.sleep(next(delays))
                continue
            if delays is not None:
                log.info("[%s] sets reach the hub again", self.camera_id)
            delays, self.last_error = None, None
            # A newer body may have been queued while this one was in flight: only drop what was sent.
            if self._queue and self._queue[0] is body:
                self._queue.popleft()
            if body.status == "closed" and self.spool is not None:
                await asyncio.to_thread(self.spool.forget, self.camera_id, body.set_id)

    async def _send(self, hub: HubClient, body: SetIn) -> tuple[bool, str | None]:
        """``(done, error)``: done when the body is done with (acknowledged, or refused for good)."""
        try:
            await hub.put_set(self.camera_id, body)
        except (HubUnreachable, OSError) as exc:
            return False, f"{type(exc).__name__}: {exc}"
        except HubRejected as exc:
            if exc.status in RETRIED_STATUSES:
                return False, str(exc)
            self.refused += 1
            log.error("[%s] set %s (%s) refused by the hub, not resent: %.500s",
                      self.camera_id, body.set_id, body.status, exc)
            return True, None
        self.sent += 1
        return True, None
