"""LatestResults: newest result per camera by capture time, embedded and in Redis."""

from __future__ import annotations

import pytest

from server.results import StoredResult, open_latest_results
from tests.server.state.conftest import run


def item(camera: str, capture_ns: int, seq: int = 0, received_ns: int = 1) -> StoredResult:
    return StoredResult(camera, received_ns, {"seq": seq, "capture_time_ns": capture_ns, "score": 80.0})


def test_newer_replaces_older_never(state_redis_url):
    async def scenario():
        results = open_latest_results(state_redis_url)
        try:
            assert await results.get("a") is None and await results.all() == []
            assert await results.put(item("a", 2_000, seq=2, received_ns=7))
            assert not await results.put(item("a", 1_000, seq=1))
            assert await results.put(item("a", 2_000, seq=3))  # same frame again: the latest report wins
            assert await results.put(item("b", 5, seq=9))
            got = await results.get("a")
            assert (got.camera_id, got.result["seq"], got.result["capture_time_ns"]) == ("a", 3, 2_000)
            return sorted((r.camera_id, r.result["seq"]) for r in await results.all())
        finally:
            await results.close()

    assert run(scenario()) == [("a", 3), ("b", 9)]


def test_capture_times_a_nanosecond_apart_are_ordered(state_redis_url):
    t = 1_780_000_000_123_456_789  # beyond a double's 2**53: a float comparison would call them equal

    async def scenario():
        results = open_latest_results(state_redis_url)
        try:
            assert await results.put(item("a", t + 1, seq=2))
            refused = not await results.put(item("a", t, seq=1))
            return refused, (await results.get("a")).result["seq"]
        finally:
            await results.close()

    assert run(scenario()) == (True, 2)


def test_two_hubs_share_results_in_redis(redis_url):
    async def scenario():
        hub_a, hub_b = open_latest_results(redis_url), open_latest_results(redis_url)
        try:
            await hub_a.put(item("side", 3_000, seq=3, received_ns=42))
            stale = await hub_b.put(item("side", 2_000, seq=2))
            got = await hub_b.get("side")
            return stale, got.result["seq"], got.hub_receive_time_ns
        finally:
            await hub_a.close()
            await hub_b.close()

    assert run(scenario()) == (False, 3, 42)


@pytest.mark.parametrize("with_redis", [False, True])
def test_results_survive_reusing_the_store_on_another_loop(request, with_redis):
    """The hub's lifespan closes its connections; a restarted lifespan (a new loop) uses it again."""
    url = request.getfixturevalue("redis_url") if with_redis else None
    results = open_latest_results(url)

    async def lifespan(work):
        try:
            return await work
        finally:
            await results.close()

    run(lifespan(results.put(item("a", 10, seq=1))))
    assert run(lifespan(results.get("a"))).result["seq"] == 1
