"""Camera leases (server/leases.py), the same tests against the embedded store and Redis."""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager

import pytest

from server.leases import EmbeddedLeaseStore, LeaseStore

A, B = ("w-a", "aaaaaaaa"), ("w-b", "bbbbbbbb")


@pytest.fixture(params=["embedded", "redis"])
def open_store(request):
    """An async context manager giving a fresh ``LeaseStore`` on the running loop."""
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None

    @asynccontextmanager
    async def opened():
        if url is None:
            store: LeaseStore = EmbeddedLeaseStore()
        else:
            from server.shared_state.connection import connect
            from server.shared_state.leases import RedisLeaseStore

            store = RedisLeaseStore(connect(url), owns_client=True)
        try:
            yield store
        finally:
            await store.close()

    return opened


def run(open_store, scenario):
    async def main():
        async with open_store() as store:
            await scenario(store)

    asyncio.run(main())


async def expired(store: LeaseStore, camera_id: str, timeout_s: float = 3.0) -> None:
    """Wait until ``camera_id`` has no live lease (its lifetime ran out)."""
    deadline = time.monotonic() + timeout_s
    while any(lease["camera_id"] == camera_id for lease in await store.leases()):
        assert time.monotonic() < deadline, f"the lease of {camera_id} did not expire"
        await asyncio.sleep(0.02)


def test_one_holder_renewed_by_it_released_only_by_it(open_store):
    async def scenario(store):
        granted = await store.acquire("cam1", *A, 5000, 8)
        assert granted.granted and granted.worker_id == "w-a" and not granted.renewed
        assert granted.taken_over_from is None
        refused = await store.acquire("cam1", *B, 5000, 8)
        assert (refused.granted, refused.reason, refused.worker_id) == (False, "held", "w-a")
        assert 0 < refused.expires_in_ms <= 5000
        again = await store.acquire("cam1", *A, 5000, 8)
        assert again.granted and again.renewed
        assert not await store.release("cam1", *B)
        assert [lease["worker_id"] for lease in await store.leases()] == ["w-a"]
        assert await store.release("cam1", *A)
        assert await store.leases() == []
        # Released, not lost: the next holder takes nothing over.
        taken = await store.acquire("cam1", *B, 5000, 8)
        assert taken.granted and taken.taken_over_from is None

    run(open_store, scenario)


def test_an_expired_lease_is_taken_over_and_names_who_lost_it(open_store):
    async def scenario(store):
        assert (await store.acquire("cam1", *A, 300, 8)).granted
        await expired(store, "cam1")
        taken = await store.acquire("cam1", *B, 5000, 8)
        assert taken.granted and taken.taken_over_from == "w-a"
        held, lost = await store.renew(*A, ["cam1"], 5000, 8)
        assert (held, lost) == ([], ["cam1"])
        # A restarted worker (same id, new instance) is a new holder: its old lease was lost.
        assert await store.release("cam1", *B)
        assert (await store.acquire("cam2", "w-b", "cccccccc", 300, 8)).granted
        await expired(store, "cam2")
        restarted = await store.acquire("cam2", *B, 5000, 8)
        assert restarted.taken_over_from == "w-b"

    run(open_store, scenario)


def test_renewal_keeps_leases_past_their_lifetime(open_store):
    async def scenario(store):
        for cam in ("cam1", "cam2"):
            assert (await store.acquire(cam, *A, 400, 8)).granted
        for _ in range(4):  # 0.6 s in all: past the 0.4 s lifetime
            await asyncio.sleep(0.15)
            assert await store.renew(*A, ["cam1", "cam2"], 400, 8) == (["cam1", "cam2"], [])
        assert [lease["camera_id"] for lease in await store.leases()] == ["cam1", "cam2"]

    run(open_store, scenario)


def test_free_cameras_go_to_the_least_loaded_worker_within_capacity(open_store):
    async def scenario(store):
        await store.renew(*B, [], 5000, 2)  # B is alive and holds nothing
        assert (await store.acquire("cam1", *A, 5000, 2)).granted
        balanced = await store.acquire("cam2", *A, 5000, 2)
        assert (balanced.granted, balanced.reason, balanced.worker_id) == (False, "balanced", "w-b")
        assert (await store.acquire("cam2", *B, 5000, 2)).granted
        assert (await store.acquire("cam3", *A, 5000, 2)).granted  # 1 each: no one holds fewer
        assert (await store.acquire("cam4", *B, 5000, 2)).granted
        full = await store.acquire("cam5", *A, 5000, 2)
        assert (full.granted, full.reason) == (False, "worker_full")
        loads = {w["worker_id"]: (w["cameras"], w["max_cameras"]) for w in await store.workers()}
        assert loads == {"w-a": (2, 2), "w-b": (2, 2)}
        # A full worker is not in the way of another with spare capacity.
        assert (await store.acquire("cam5", "w-c", "dddddddd", 5000, 1)).granted

    run(open_store, scenario)


def test_a_camera_no_less_loaded_worker_asks_for_goes_to_one_that_does(open_store):
    from server.leases import BALANCE_GRACE_MS

    async def scenario(store):
        await store.renew(*B, [], 5000, 4)  # alive, but never asks (it does not see the camera)
        assert (await store.acquire("cam1", *A, 5000, 4)).granted
        started = time.monotonic()
        assert (await store.acquire("cam2", *A, 5000, 4)).reason == "balanced"
        while not (grant := await store.acquire("cam2", *A, 5000, 4)).granted:
            assert grant.reason == "balanced" and time.monotonic() - started < 3
            await asyncio.sleep(0.05)
        assert time.monotonic() - started >= BALANCE_GRACE_MS / 1e3 * 0.9
        # The wait is per camera and starts again for the next one.
        assert (await store.acquire("cam3", *A, 5000, 4)).reason == "balanced"

    run(open_store, scenario)


def test_a_worker_no_longer_renewing_is_not_in_the_balance(open_store):
    async def scenario(store):
        await store.renew(*B, [], 300, 4)
        assert (await store.acquire("cam1", *A, 5000, 4)).granted
        assert (await store.acquire("cam2", *A, 5000, 4)).reason == "balanced"
        deadline = time.monotonic() + 3
        while [w["worker_id"] for w in await store.workers()] != ["w-a"]:
            assert time.monotonic() < deadline, "a worker that stopped renewing stayed live"
            await asyncio.sleep(0.02)
        assert (await store.acquire("cam2", *A, 5000, 4)).granted

    run(open_store, scenario)
