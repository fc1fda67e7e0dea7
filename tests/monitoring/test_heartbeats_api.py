"""``/api/v1/heartbeats`` on a real hub: stored, validated, lost after 3 intervals, back, forgotten."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.monitoring.conftest import EventStream, camera_link, heartbeat_body
from tests.redis_server import STORES, store_settings
from tests.support import RunningHub, wait_until


@pytest.fixture(params=STORES)
def hub(request):
    """A real hub with embedded stores, then one with its state in Redis."""
    with RunningHub(**store_settings(request)) as running:
        yield running


def processes(hub_url: str) -> dict[str, dict]:
    return {p["process_id"]: p for p in httpx.get(hub_url + "/api/v1/heartbeats").json()["processes"]}


def test_the_latest_heartbeat_of_each_process_is_listed_with_the_hubs_own(hub):
    first = heartbeat_body(cameras=[camera_link(dropped_total=1)])
    r = httpx.post(hub.url + "/api/v1/heartbeats", json=first)
    assert r.status_code == 201, r.text
    assert r.json()["lost"] is False and r.json()["heartbeats_total"] == 1
    second = heartbeat_body(cameras=[camera_link(dropped_total=7)])
    assert httpx.post(hub.url + "/api/v1/heartbeats", json=second).status_code == 201

    # The hub reports itself too (role hub), from its own psutil samples.
    assert wait_until(lambda: any(p["role"] == "hub" for p in processes(hub.url).values()), timeout=5)
    listed = processes(hub.url)
    client = listed["client:test-pc:front"]
    assert client["cameras"][0]["dropped_total"] == 7 and client["heartbeats_total"] == 2
    assert client["host"] == second["host"] and client["process"]["pid"] == second["process"]["pid"]
    assert 0 <= client["age_s"] < 5 and client["lost"] is False
    [own] = [p for p in listed.values() if p["role"] == "hub"]
    assert own["process_id"] == f"hub:{own['host']['hostname']}:{hub.port}"
    assert 0 <= own["host"]["cpu_percent"] <= 100 and own["process"]["rss_bytes"] > 0
    assert own["host"]["disk_path"] == str(hub.settings.db_path).rsplit("/", 1)[0]


def test_invalid_heartbeats_get_422_naming_the_field(hub):
    cases = {
        "host.cpu_percent": heartbeat_body(host={**heartbeat_body()["host"], "cpu_percent": 150}),
        "process_id": {**heartbeat_body(), "process_id": "client/../x"},
        "interval_s": {**heartbeat_body(), "interval_s": 0},
        "cameras.0.sent_fps": heartbeat_body(cameras=[camera_link(sent_fps=-1)]),
        "body.surprise": {**heartbeat_body(), "surprise": 1},
    }
    for field, body in cases.items():
        r = httpx.post(hub.url + "/api/v1/heartbeats", json=body)
        assert r.status_code == 422, (field, r.text)
        error = r.json()["error"]
        assert error["code"] == "validation_error", (field, error)
        assert field.split(".")[-1] in error["message"], (field, error)
    assert all(p["role"] == "hub" for p in processes(hub.url).values())  # none was stored


def test_a_process_missing_three_intervals_turns_lost_then_comes_back(hub):
    with EventStream(hub.url, "process_lost,process_online") as events:
        body = heartbeat_body(interval_s=0.3)
        assert httpx.post(hub.url + "/api/v1/heartbeats", json=body).status_code == 201
        online = events.next_matching(lambda e: e["process_id"] == body["process_id"])
        assert online["type"] == "process_online" and online["role"] == "client"
        # 3 missed intervals = 0.9 s; the monitor checks every second.
        lost = events.next_matching(lambda e: e["type"] == "process_lost", timeout=5)
        assert lost["process_id"] == body["process_id"]
        listed = processes(hub.url)[body["process_id"]]
        assert listed["lost"] and listed["age_s"] > 0.9 and listed["lost_since_ns"] == lost["time_ns"]

        r = httpx.post(hub.url + "/api/v1/heartbeats", json=heartbeat_body(interval_s=0.3))
        assert r.json()["lost"] is False and r.json()["lost_since_ns"] is None
        back = events.next_matching(lambda e: e["type"] == "process_online")
        assert back["process_id"] == body["process_id"]


def test_forgetting_a_process(hub):
    body = heartbeat_body(process_id="worker:test-pc:w1", role="worker")
    httpx.post(hub.url + "/api/v1/heartbeats", json=body)
    assert httpx.delete(hub.url + "/api/v1/heartbeats/worker:test-pc:w1").status_code == 204
    assert "worker:test-pc:w1" not in processes(hub.url)
    r = httpx.delete(hub.url + "/api/v1/heartbeats/worker:test-pc:w1")
    assert r.status_code == 404 and r.json()["error"]["code"] == "process_not_found"


def test_lost_after_is_a_setting():
    with RunningHub(heartbeat_lost_after=10) as hub:
        body = heartbeat_body(interval_s=0.2)
        httpx.post(hub.url + "/api/v1/heartbeats", json=body)
        got = httpx.get(hub.url + "/api/v1/heartbeats").json()
        assert got["lost_after_intervals"] == 10
        # 1 s without a heartbeat is 5 intervals: lost with the default 3, not with 10.
        threading.Event().wait(1.0)
        assert processes(hub.url)[body["process_id"]]["lost"] is False
