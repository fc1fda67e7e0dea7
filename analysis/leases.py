"""The worker's camera leases (``server/leases.py``): it analyses a camera only while it holds
the camera's lease, asked for through its hub, so several workers share the cameras and each is
analysed by exactly one of them.

- A frame of a camera the worker does not hold makes it ask for the lease, at most once per
  camera until the holder's lease would expire (``expires_in_ms``) or a third of a lifetime has passed,
  or, when the hub gave it to a less loaded worker or this one is full, after ``RETRY_S``. A dead
  holder's camera is therefore taken over within about one lease lifetime of its last renewal.
- A holder whose lease has less than half its lifetime left has missed a renewal (it renews every
  quarter): ``on_overdue`` lets the worker load the camera's models meanwhile, so that its first
  analysis after the takeover does not wait for them.
- Every held lease is renewed each quarter lifetime in one request, which also tells the hub the
  worker is alive and how many cameras it takes (balancing). A renewal that says a lease is
  lost, or no successful renewal for a whole lifetime (the hub unreachable: another worker may
  have it by now), ends the worker's claim: it stops analysing the camera. The two differ in who
  closes the camera's open set: after a refusal the hub has (``on_lost``); after an outage the hub
  may have restarted and forgotten the set, so the worker closes it itself (``on_cut_off``).
- On a deliberate stop the worker releases its leases, so others take the cameras at once.
- Rebalancing: when one of its cameras ends a set and it holds at least two cameras more than
  some other live worker with room (a worker started later, say), the worker releases that camera
  (``should_hand_over``), and the less loaded worker takes it at its next frame. Only at a set's
  end, so no set is split between two workers.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable

from formsync.hub_client import HubClient, HubRejected, HubUnreachable
from formsync.wire.leases import LEASE_TTL_MS, LeaseClaim, LeaseList, LeaseRelease, LeaseRenewal

log = logging.getLogger("formsync.worker.leases")

RETRY_S = 0.25
"""Wait before asking again for a camera the hub gave to a less loaded worker, or while full, s."""


def should_hand_over(worker_id: str, instance: str, held: int, listing: LeaseList) -> bool:
    """Whether a worker holding ``held`` cameras should give one up: some other live worker with
    room holds at least two fewer (with one fewer, moving a camera would only swap the loads)."""
    others = [w.cameras for w in listing.workers
              if (w.worker_id, w.instance) != (worker_id, instance) and w.cameras < w.max_cameras]
    return bool(others) and held - min(others) >= 2


class CameraLeases:
    """Args:
        worker_id: the worker's id (with a random ``instance``, new at every start).
        max_cameras: most cameras this worker takes (1-1024).
        ttl_ms: lease lifetime, ms (200-60000).
        on_granted, on_lost: called on the event loop with a camera id as a lease is won or lost
            (the hub said so: it closed the camera's open set).
        on_cut_off: likewise as a lease is given up because the hub went unanswered for a whole
            lifetime (no one may have closed the set).
        on_overdue: likewise when the camera's holder is overdue with its renewal.

    Loop-owned: call everything on the worker's event loop."""

    def __init__(self, worker_id: str, max_cameras: int = 8, ttl_ms: int = LEASE_TTL_MS,
                 on_granted: Callable[[str], None] = lambda cam: None,
                 on_lost: Callable[[str], None] = lambda cam: None,
                 on_cut_off: Callable[[str], None] = lambda cam: None,
                 on_overdue: Callable[[str], None] = lambda cam: None, clock=time.monotonic) -> None:
        self.worker_id = worker_id
        self.instance = secrets.token_hex(8)
        self.max_cameras = max_cameras
        self.ttl_ms = ttl_ms
        self.on_granted, self.on_lost, self.on_overdue = on_granted, on_lost, on_overdue
        self.on_cut_off = on_cut_off
        self.held: set[str] = set()
        self.takeovers = 0
        self._clock = clock
        self._next_try: dict[str, float] = {}
        self._asking: set[str] = set()
        self._renewed_at = clock()

    def should_ask(self, camera_id: str) -> bool:
        """Whether to ask for ``camera_id``'s lease now (not held, not being asked for, not too soon)."""
        return (camera_id not in self.held and camera_id not in self._asking
                and self._clock() >= self._next_try.get(camera_id, 0.0))

    async def ask(self, hub: HubClient, camera_id: str) -> bool:
        """Ask the hub for the camera's lease; True when granted (``on_granted`` was called)."""
        self._asking.add(camera_id)
        try:
            out = await hub.acquire_lease(camera_id, LeaseClaim(
                worker_id=self.worker_id, instance=self.instance, ttl_ms=self.ttl_ms, max_cameras=self.max_cameras))
        except (HubUnreachable, HubRejected) as exc:
            self._next_try[camera_id] = self._clock() + RETRY_S
            log.debug("[%s] lease request failed: %s", camera_id, exc)
            return False
        finally:
            self._asking.discard(camera_id)
        if not out.granted:
            # Asked every third of a lifetime, a dead holder's lease is seen with at most half of
            # it left at least once before it expires (a live holder's never: it renews every quarter).
            wait = min(out.expires_in_ms, self.ttl_ms / 3) / 1e3 if out.reason == "held" else RETRY_S
            self._next_try[camera_id] = self._clock() + max(wait, 0.02)
            if out.reason == "held" and out.expires_in_ms <= self.ttl_ms / 2:
                self.on_overdue(camera_id)
            return False
        if camera_id not in self.held:
            self.held.add(camera_id)
            if out.taken_over_from is not None:
                self.takeovers += 1
                log.warning("[%s] taken over from %s, which stopped renewing its lease", camera_id,
                            out.taken_over_from)
            else:
                log.info("[%s] lease granted: analysing it", camera_id)
            self.on_granted(camera_id)
        return True

    async def keep(self, hub: HubClient) -> None:
        """Renew every quarter lifetime until cancelled (whatever fails)."""
        while True:
            await asyncio.sleep(self.ttl_ms / 4e3)
            await self.renew(hub)

    async def renew(self, hub: HubClient) -> None:
        cameras = sorted(self.held)
        try:
            out = await hub.renew_leases(LeaseRenewal(
                worker_id=self.worker_id, instance=self.instance, camera_ids=cameras, ttl_ms=self.ttl_ms,
                max_cameras=self.max_cameras))
        except (HubUnreachable, HubRejected) as exc:
            if self.held and self._clock() - self._renewed_at > self.ttl_ms / 1e3:
                log.warning("leases not renewed for a whole lifetime (%s): giving up %s", exc,
                            ", ".join(sorted(self.held)))
                self._drop(sorted(self.held), self.on_cut_off)
            return
        self._renewed_at = self._clock()
        self._drop([cam for cam in out.lost if cam in self.held], self.on_lost)

    def _drop(self, cameras: list[str], notify: Callable[[str], None]) -> None:
        for camera_id in cameras:
            self.held.discard(camera_id)
            log.warning("[%s] lease lost: no longer analysing it", camera_id)
            notify(camera_id)

    async def release(self, hub: HubClient, camera_id: str) -> None:
        """Give the camera up (a deliberate stop of its analysis); failures are only logged (the
        lease then expires by itself)."""
        if camera_id not in self.held:
            return
        self.held.discard(camera_id)
        try:
            await hub.release_lease(camera_id, LeaseRelease(worker_id=self.worker_id, instance=self.instance))
        except (HubUnreachable, HubRejected) as exc:
            log.warning("[%s] releasing the lease failed (it expires in %d ms): %s", camera_id, self.ttl_ms, exc)

    async def hand_over(self, hub: HubClient, camera_id: str) -> bool:
        """Release ``camera_id`` when a less loaded worker should take it (``should_hand_over``);
        True when released. Failing to ask the hub keeps the camera."""
        if camera_id not in self.held:
            return False
        try:
            listing = await hub.leases()
        except (HubUnreachable, HubRejected) as exc:
            log.debug("[%s] no lease listing to balance by: %s", camera_id, exc)
            return False
        if not should_hand_over(self.worker_id, self.instance, len(self.held), listing):
            return False
        log.info("[%s] handed over to a less loaded worker at the end of a set", camera_id)
        await self.release(hub, camera_id)
        return True

    async def release_all(self, hub: HubClient) -> None:
        await asyncio.gather(*(self.release(hub, cam) for cam in sorted(self.held)))
