"""Camera leases: each camera is analysed by exactly one worker at a time.

A lease is held by one worker process (``worker_id`` plus its ``instance``, new at every start)
until it expires (``ttl_ms`` after its last renewal) or is released. ``LeaseStore`` has two
implementations with the same behaviour: ``EmbeddedLeaseStore`` (one hub, in memory) and
``server.shared_state.leases.RedisLeaseStore`` (any number of hubs).

Balancing: a free camera is granted to the asking worker unless it already holds ``max_cameras``
(``worker_full``) or some other live worker with spare capacity holds fewer cameras
(``balanced``: that worker takes it when it asks, within one frame). A worker is live while it
renews within its lease lifetime. A camera refused as ``balanced`` for ``BALANCE_GRACE_MS`` goes
to whoever asks next with room: the less loaded worker may not see the camera at all (it follows
a hub the camera's frames do not reach).

Takeover: the store remembers each camera's last holder until it releases the lease, so a grant
to anyone else tells who lost it without releasing it (``taken_over_from``: that worker died or
lost the hub); the hub then closes the camera's open set with reason ``worker_lost``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol

BALANCE_GRACE_MS = 1000
"""How long a free camera waits for a less loaded worker to ask for it, ms: many frames (each
worker asks at the camera's next frame), yet short beside the 3 s takeover target."""


@dataclass(frozen=True)
class Grant:
    """The answer to ``acquire`` (``formsync.wire.leases.LeaseOut``'s fields but ``camera_id``)."""

    granted: bool
    reason: str | None = None
    worker_id: str | None = None
    expires_in_ms: int = 0
    taken_over_from: str | None = None
    renewed: bool = False  # granted to its holder again (no change of worker)


def holder_of(worker_id: str, instance: str) -> str:
    """The stored holder of a lease: worker id and process instance (ids never contain a space)."""
    return f"{worker_id} {instance}"


def split_holder(holder: str) -> tuple[str, str]:
    worker_id, _, instance = holder.partition(" ")
    return worker_id, instance


class LeaseStore(Protocol):
    """Every method is a coroutine; none blocks the event loop. ``ttl_ms``: the lease's (and the
    worker's liveness) lifetime from now, ms."""

    async def acquire(self, camera_id: str, worker_id: str, instance: str, ttl_ms: int,
                      max_cameras: int) -> Grant:
        """Grant (or renew, for its holder) the camera's lease."""

    async def renew(self, worker_id: str, instance: str, camera_ids: list[str], ttl_ms: int,
                    max_cameras: int) -> tuple[list[str], list[str]]:
        """Renew the worker's leases of ``camera_ids`` and its liveness: (held, lost)."""

    async def release(self, camera_id: str, worker_id: str, instance: str) -> bool:
        """Free the camera if this worker holds it (compare and delete); False otherwise."""

    async def leases(self) -> list[dict]:
        """Live leases (``formsync.wire.leases.Lease`` dumps), by camera id."""

    async def workers(self) -> list[dict]:
        """Live workers (``formsync.wire.leases.WorkerLoad`` dumps), by worker id."""

    async def close(self) -> None: ...


@dataclass
class _Entry:
    holder: str
    expires: float  # time.monotonic()


class EmbeddedLeaseStore:
    """``LeaseStore`` in this process's memory (one hub). Thread-safe; never blocks on I/O."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._leases: dict[str, _Entry] = {}
        self._last: dict[str, str] = {}  # camera -> last holder, until it releases the lease
        self._workers: dict[str, tuple[int, float]] = {}  # holder -> (max_cameras, expires)
        self._wanted: dict[str, float] = {}  # camera -> first "balanced" refusal, while free

    def _live(self, now: float) -> None:
        self._leases = {c: e for c, e in self._leases.items() if e.expires > now}
        self._workers = {h: w for h, w in self._workers.items() if w[1] > now}

    def _load(self, holder: str) -> int:
        return sum(e.holder == holder for e in self._leases.values())

    async def acquire(self, camera_id, worker_id, instance, ttl_ms, max_cameras) -> Grant:
        me = holder_of(worker_id, instance)
        with self._lock:
            now = self._clock()
            self._live(now)
            entry = self._leases.get(camera_id)
            if entry is not None and entry.holder != me:
                return Grant(False, "held", split_holder(entry.holder)[0], _ms(entry.expires - now))
            expires = now + ttl_ms / 1e3
            self._workers[me] = (max_cameras, expires)
            if entry is not None:
                entry.expires = expires
                return Grant(True, None, worker_id, ttl_ms, renewed=True)
            mine = self._load(me)
            if mine >= max_cameras:
                return Grant(False, "worker_full")
            for other, (their_max, _) in self._workers.items():
                theirs = self._load(other)
                if other != me and theirs < mine and theirs < their_max:
                    since = self._wanted.get(camera_id)
                    if since is None or (now - since) * 1e3 > 3 * BALANCE_GRACE_MS:  # back later: wait again
                        since = self._wanted[camera_id] = now
                    if (now - since) * 1e3 < BALANCE_GRACE_MS:
                        return Grant(False, "balanced", split_holder(other)[0])
                    break
            self._wanted.pop(camera_id, None)
            self._leases[camera_id] = _Entry(me, expires)
            previous = self._last.get(camera_id)
            self._last[camera_id] = me
        lost_by = split_holder(previous)[0] if previous is not None and previous != me else None
        return Grant(True, None, worker_id, ttl_ms, lost_by)

    async def renew(self, worker_id, instance, camera_ids, ttl_ms, max_cameras):
        me = holder_of(worker_id, instance)
        held, lost = [], []
        with self._lock:
            now = self._clock()
            self._live(now)
            expires = now + ttl_ms / 1e3
            self._workers[me] = (max_cameras, expires)
            for camera_id in camera_ids:
                entry = self._leases.get(camera_id)
                if entry is not None and entry.holder == me:
                    entry.expires = expires
                    held.append(camera_id)
                else:
                    lost.append(camera_id)
        return held, lost

    async def release(self, camera_id, worker_id, instance) -> bool:
        me = holder_of(worker_id, instance)
        with self._lock:
            self._live(self._clock())
            entry = self._leases.get(camera_id)
            if entry is None or entry.holder != me:
                return False
            del self._leases[camera_id]
            if self._last.get(camera_id) == me:
                del self._last[camera_id]
        return True

    async def leases(self) -> list[dict]:
        with self._lock:
            now = self._clock()
            self._live(now)
            return [_lease(c, e.holder, _ms(e.expires - now)) for c, e in sorted(self._leases.items())]

    async def workers(self) -> list[dict]:
        with self._lock:
            now = self._clock()
            self._live(now)
            return [_load(h, self._load(h), m) for h, (m, _) in sorted(self._workers.items())]

    async def close(self) -> None:
        pass


def open_lease_store(redis_url: str | None) -> LeaseStore:
    """The hub's lease store: in Redis at ``redis_url`` (its own connection pool, closed with the
    store), or embedded without one."""
    if redis_url is None:
        return EmbeddedLeaseStore()
    from server.shared_state.connection import connect
    from server.shared_state.leases import RedisLeaseStore

    return RedisLeaseStore(connect(redis_url), owns_client=True)


def _ms(seconds: float) -> int:
    return max(0, min(60_000, round(seconds * 1e3)))


def _lease(camera_id: str, holder: str, expires_in_ms: int) -> dict:
    worker_id, instance = split_holder(holder)
    return {"camera_id": camera_id, "worker_id": worker_id, "instance": instance, "expires_in_ms": expires_in_ms}


def _load(holder: str, cameras: int, max_cameras: int) -> dict:
    worker_id, instance = split_holder(holder)
    return {"worker_id": worker_id, "instance": instance, "cameras": cameras, "max_cameras": max_cameras}
