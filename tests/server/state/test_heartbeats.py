"""Heartbeats shared by hubs through Redis: listed by every hub, newest wins, one hub announces a
process lost, a forgotten process is forgotten by all, an outage delays sharing but loses nothing."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from server.monitoring.heartbeats import HeartbeatRegistry
from server.shared_state.connection import connect
from server.shared_state.heartbeats import RedisHeartbeatRegistry
from tests.monitoring.conftest import EventStream, heartbeat_body
from tests.support import RunningHub, wait_until

S = 1_000_000_000


def body(pid: str = "client:pc:front", interval_s: float = 2.0, **over) -> dict:
    return {"process_id": pid, "role": "client", "interval_s": interval_s, **over}


async def two_hubs(url: str):
    client = connect(url)
    return client, RedisHeartbeatRegistry(3, client), RedisHeartbeatRegistry(3, client)


def test_embedded_registry_sync_changes_nothing():
    registry = HeartbeatRegistry(3)
    registry.record(body(), 1 * S)
    asyncio.run(registry.sync(100 * S))
    assert [v["process_id"] for v in registry.check_lost(100 * S)] == ["client:pc:front"]


def test_a_heartbeat_taken_by_one_hub_is_listed_by_the_other_newest_first(redis_url):
    async def scenario():
        client, a, b = await two_hubs(redis_url)
        try:
            a.record(body(seq="first"), 10 * S)
            await a.sync(10 * S)
            await b.sync(10 * S)
            [seen] = b.snapshot(11 * S)
            b.record(body(seq="second"), 12 * S)
            a.record(body(seq="stale"), 11 * S)  # an older one reaching the other hub late
            await b.sync(12 * S)
            await a.sync(12 * S)
            [after_a] = a.snapshot(12 * S)
            await b.sync(12 * S)
            [after_b] = b.snapshot(12 * S)
            return seen, after_a, after_b
        finally:
            await client.aclose()

    seen, after_a, after_b = asyncio.run(scenario())
    assert seen["seq"] == "first" and seen["received_time_ns"] == 10 * S and seen["lost"] is False
    assert after_a["seq"] == after_b["seq"] == "second"
    assert after_a["heartbeats_total"] == after_b["heartbeats_total"] == 3  # all hubs' heartbeats


def test_one_hub_announces_a_silent_process_and_a_forgotten_one_leaves_every_hub(redis_url):
    async def scenario():
        client, a, b = await two_hubs(redis_url)
        try:
            a.record(body(), 10 * S)
            a.record(body("worker:pc", role="worker"), 10 * S)
            await a.sync(10 * S)
            await b.sync(10 * S)
            late = 10 * S + 7 * S  # 3 intervals of 2 s passed
            await a.sync(late)
            await b.sync(late)
            announced = a.check_lost(late) + b.check_lost(late)
            listed_lost = [v["lost"] for v in a.snapshot(late) + b.snapshot(late)]
            again = a.check_lost(late + S) + b.check_lost(late + S)
            b.forget("worker:pc")
            await b.sync(late)
            await a.sync(late)
            return announced, listed_lost, again, [v["process_id"] for v in a.snapshot(late)]
        finally:
            await client.aclose()

    announced, listed_lost, again, left = asyncio.run(scenario())
    assert sorted(v["process_id"] for v in announced) == ["client:pc:front", "worker:pc"]
    assert listed_lost == [True] * 4 and again == []
    assert left == ["client:pc:front"]


def test_heartbeats_taken_while_redis_is_down_are_shared_once_it_is_back(redis_server, redis_url):
    async def scenario():
        client, a, b = await two_hubs(redis_url)
        try:
            a.record(body(), 10 * S)
            redis_server.kill()
            await a.sync(10 * S)  # logs and keeps them
            redis_server.start()
            await a.sync(11 * S)
            await b.sync(11 * S)
            return b.snapshot(11 * S)
        finally:
            if redis_server.process.poll() is not None:
                redis_server.start()
            await client.aclose()

    [seen] = asyncio.run(scenario())
    assert seen["process_id"] == "client:pc:front" and seen["heartbeats_total"] == 1


def test_two_real_hubs_list_each_others_processes_and_announce_a_loss_once(redis_url):
    with RunningHub(redis_url=redis_url, monitor_interval_s=0.1) as a, \
            RunningHub(redis_url=redis_url, monitor_interval_s=0.1) as b, \
            EventStream(a.url, "process_lost,alert") as events:
        sent = heartbeat_body("client:test-pc:lonely", interval_s=0.3)
        assert httpx.post(a.url + "/api/v1/heartbeats", json=sent).status_code == 201

        def listed_by_b() -> dict:
            return {p["process_id"]: p for p in httpx.get(b.url + "/api/v1/heartbeats").json()["processes"]}

        assert wait_until(lambda: "client:test-pc:lonely" in listed_by_b(), 5)
        def about_it(e: dict) -> bool:
            return "client:test-pc:lonely" in (e.get("process_id"), e.get("subject"))

        seen = [events.next_matching(about_it), events.next_matching(about_it)]
        assert sorted(e["type"] for e in seen) == ["alert", "process_lost"]
        assert [e["rule"] for e in seen if e["type"] == "alert"] == ["process_lost"]
        assert wait_until(lambda: listed_by_b()["client:test-pc:lonely"]["lost"], 5)
        with pytest.raises(TimeoutError):  # each announced by one hub only, though both saw it
            events.next_matching(about_it, timeout=1.5)
        log = httpx.get(b.url + "/api/v1/alerts").json()["log"]
        assert [e["state"] for e in log if e["subject"] == "client:test-pc:lonely"] == ["firing"]
