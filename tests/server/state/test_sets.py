"""SetStore: live sets and closed sets stored exactly once, embedded (SQLite) and in Redis."""

from __future__ import annotations

import threading

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from server.set_store import open_set_store
from tests.redis_server import RedisServer
from tests.server.test_sets_api import a_set


@pytest.fixture
def sets(tmp_path, state_redis_url):
    store = open_set_store(tmp_path / "hub.db", state_redis_url)
    yield store
    store.close()


def test_open_set_is_live_and_closed_sets_are_listed_once(sets):
    opened = a_set(status="open", reps=1)
    item, error = sets.put("side", opened)
    assert error is None and item["saved_at"] is None and item["camera_id"] == "side"
    assert sets.live("side")["status"] == "open" and sets.list() == []
    closed = {**a_set(reps=2, ended=3_000), "set_id": opened["set_id"]}
    for _ in range(3):  # a worker retrying after lost answers
        assert sets.put("side", closed)[1] is None
    other = a_set(reps=1, ended=5_000)
    sets.put("front", other)
    assert [s["set_id"] for s in sets.list()] == [other["set_id"], opened["set_id"]]
    assert [s["set_id"] for s in sets.list(camera_id="side")] == [opened["set_id"]]
    assert [s["set_id"] for s in sets.list(limit=1)] == [other["set_id"]]
    got = sets.get(opened["set_id"])
    assert (got["reps"], got["camera_id"], got["status"]) == (2, "side", "closed") and got["saved_at"]
    assert got["reps_detail"] == closed["reps_detail"]
    assert sets.get("0" * 32) is None and sets.live("nobody") is None
    assert sets.unsaved == 0 and sets.last_error is None


def test_an_open_update_after_the_close_does_not_reopen_the_set(sets):
    opened = a_set(status="open", reps=1)
    sets.put("side", opened)
    sets.put("side", {**a_set(reps=2), "set_id": opened["set_id"]})
    late, _ = sets.put("side", opened)
    assert (late["status"], late["reps"]) == ("closed", 2)
    assert sets.live("side")["status"] == "closed" and [s["reps"] for s in sets.list()] == [2]


def test_concurrent_puts_of_one_closed_set_store_it_once(sets):
    closed = a_set(reps=3)
    threads = [threading.Thread(target=sets.put, args=("side", closed)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert [s["set_id"] for s in sets.list()] == [closed["set_id"]]


def test_a_set_closed_on_one_hub_is_served_by_another(redis_url, tmp_path):
    hub_a, hub_b = open_set_store(tmp_path / "a.db", redis_url), open_set_store(tmp_path / "b.db", redis_url)
    try:
        opened = a_set(status="open", reps=1)
        hub_a.put("side", opened)
        assert hub_b.live("side")["set_id"] == opened["set_id"]
        hub_b.put("side", {**a_set(reps=2), "set_id": opened["set_id"]})
        assert hub_a.put("side", opened)[0]["status"] == "closed"  # a late open update through the other hub
        hub_a.put("side", {**a_set(reps=2), "set_id": opened["set_id"]})
        assert [s["reps"] for s in hub_a.list()] == [2] == [s["reps"] for s in hub_b.list()]
    finally:
        hub_a.close()
        hub_b.close()


def test_sets_closed_while_redis_is_down_are_kept_and_written_once_it_is_back(redis_server, redis_url, tmp_path):
    from server.shared_state.connection import connect_sync
    from server.shared_state.sets import RedisSetStore

    sets = RedisSetStore(connect_sync(redis_url, socket_timeout_s=0.2), owns_client=True)
    try:
        redis_server.kill()
        closed = a_set(reps=2, ended=7_000)
        item, error = sets.put("side", closed)
        assert error is not None and "Error" in error and sets.unsaved == 1 and sets.last_error == error
        with pytest.raises(RedisConnectionError):  # what the routes answer 503 for
            sets.list()
        assert sets.get(closed["set_id"])["reps"] == 2  # served from memory
        redis_server.start()
        assert sets.live("side")["set_id"] == closed["set_id"]
        assert sets.retry() is None and sets.unsaved == 0 and sets.last_error is None
        assert [s["set_id"] for s in sets.list()] == [closed["set_id"]]
        assert sets.retry() is None
    finally:
        if redis_server.process.poll() is not None:
            redis_server.start()
        sets.close()


def test_closed_sets_survive_a_redis_crash_with_appendonly(tmp_path):
    with RedisServer(None, "--appendonly", "yes", "--appendfsync", "always") as server:
        sets = open_set_store(tmp_path / "hub.db", server.url)
        closed = a_set(reps=2)
        sets.put("side", closed)
        server.kill()  # kill -9: only what reached the append-only file survives
        server.start()
        assert [s["set_id"] for s in sets.list()] == [closed["set_id"]]
        assert sets.live("side")["set_id"] == closed["set_id"]
        sets.close()


def test_a_closed_set_arriving_late_is_stored_but_leaves_a_newer_live_set_live(sets):
    # A worker cut off from the hub closes its set itself and sends it once the hub answers again,
    # after the worker that took the camera over began its own set.
    theirs = a_set(reps=2, started_at_ns=1_000, ended=5_000)
    ours = a_set(status="open", reps=1, started_at_ns=6_000, ended=7_000)
    sets.put("side", ours)
    sets.put("side", theirs)
    assert sets.live("side")["set_id"] == ours["set_id"]
    assert [s["set_id"] for s in sets.list()] == [theirs["set_id"]]
    # Closed in turn, ours replaces it; an older closed one arriving after that does not.
    sets.put("side", {**ours, "status": "closed", "end_reason": "rest", "ended_at_ns": 9_000})
    sets.put("side", a_set(reps=1, started_at_ns=100, ended=500))
    assert (sets.live("side")["set_id"], sets.live("side")["status"]) == (ours["set_id"], "closed")
    assert len(sets.list()) == 3
