"""Two real hubs (uvicorn on loopback) sharing one Redis serve each other's results and sets."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.server.test_analysis_api import result
from tests.server.test_sets_api import a_set
from tests.support import RunningHub


@pytest.fixture
def two_hubs(redis_url):
    with RunningHub(redis_url=redis_url) as a, RunningHub(redis_url=redis_url) as b:
        yield a, b


def test_any_hub_serves_what_another_was_sent(two_hubs):
    a, b = two_hubs
    with httpx.Client(base_url=a.url) as to_a, httpx.Client(base_url=b.url) as to_b:
        t = time.time_ns()
        assert to_a.post("/api/v1/cameras/side/analysis", json=result(5, t)).status_code == 201
        late = to_b.post("/api/v1/cameras/side/analysis", json=result(4, t - 1))
        assert late.status_code == 409 and late.json()["error"]["code"] == "stale_result"
        assert to_b.get("/api/v1/cameras/side/analysis").json()["seq"] == 5

        opened = a_set(status="open", reps=1)
        assert to_a.put("/api/v1/cameras/side/set", json=opened).json()["persisted"] is True
        assert to_b.get("/api/v1/cameras/side/set").json()["status"] == "open"
        closed = {**a_set(reps=2), "set_id": opened["set_id"]}
        assert to_b.put("/api/v1/cameras/side/set", json=closed).json()["persisted"] is True
        assert to_a.put("/api/v1/cameras/side/set", json=closed).json()["persisted"] is True  # a retry elsewhere
        listed = to_a.get("/api/v1/sets").json()
        assert [s["set_id"] for s in listed["sets"]] == [opened["set_id"]] and listed["unsaved"] == 0
        assert to_b.get(f"/api/v1/sets/{opened['set_id']}").json()["reps"] == 2


def test_a_hub_whose_redis_is_down_answers_503_and_recovers(redis_server, redis_url):
    with RunningHub(redis_url=redis_url) as hub, httpx.Client(base_url=hub.url, timeout=10) as http:
        redis_server.kill()
        try:
            for path in ("/api/v1/cameras/side/analysis", "/api/v1/cameras/side/set", "/api/v1/sets"):
                down = http.get(path)
                assert down.status_code == 503, (path, down.text)
                assert down.headers["Retry-After"] == "1" and down.json()["error"]["code"] == "redis_unavailable"
        finally:
            redis_server.start()
        assert http.post("/api/v1/cameras/side/analysis", json=result(1, time.time_ns())).status_code == 201
        assert http.get("/api/v1/sets").json()["sets"] == []


def test_a_build_job_sent_to_one_hub_is_taken_and_reported_through_another(two_hubs):
    a, b = two_hubs
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40
    with httpx.Client(base_url=a.url) as to_a, httpx.Client(base_url=b.url) as to_b:
        job = to_a.post("/api/v1/reference-jobs", params={"name": "mine"}, content=video).json()
        claimed = to_b.post("/api/v1/reference-jobs/claim", json={"worker_id": "w1"}).json()
        assert claimed["job_id"] == job["job_id"] and claimed["state"] == "running"
        assert to_a.post("/api/v1/reference-jobs/claim", json={"worker_id": "w2"}).status_code == 204
        assert to_b.get(f"/api/v1/reference-jobs/{job['job_id']}/video").content == video
        report = {"worker_id": "w1", "code": "no_rep_found", "message": "no rep"}
        assert to_b.post(f"/api/v1/reference-jobs/{job['job_id']}/failed", json=report).status_code == 200
        assert to_a.get(f"/api/v1/reference-jobs/{job['job_id']}").json()["state"] == "failed"


def test_a_reference_stored_through_one_hub_is_chosen_and_served_through_another(two_hubs, reference_bundles):
    a, b = two_hubs
    bundle = reference_bundles["default"]
    zip_body = {"Content-Type": "application/zip"}
    with httpx.Client(base_url=a.url) as to_a, httpx.Client(base_url=b.url) as to_b:
        stored = to_a.put("/api/v1/references/default", content=bundle, headers=zip_body).json()
        assert to_b.put("/api/v1/reference", json={"name": "default"}).status_code == 200
        assert to_a.get("/api/v1/reference").json() == {"name": "default", "content_hash": stored["content_hash"]}
        data = to_b.get("/api/v1/references/default/data")
        assert data.headers["etag"].strip('"') == stored["content_hash"]
        assert [r["name"] for r in to_b.get("/api/v1/references").json()["references"]] == ["default"]
        assert to_b.get("/api/v1/references/default/frames/0.jpg").content[:2] == b"\xff\xd8"


def test_a_hub_restarted_on_redis_lists_the_alert_log_another_hub_wrote(redis_url):
    from server.monitoring.alert_log import open_alert_log
    from tests.server.state.test_alert_log import transition

    log = open_alert_log(":memory:", redis_url)
    log.append([transition("process_lost", "worker:pc", "firing", 1)])
    log.close()
    with RunningHub(redis_url=redis_url) as hub:
        alerts = httpx.get(hub.url + "/api/v1/alerts").json()
        assert [(e["rule"], e["subject"]) for e in alerts["log"]][-1] == ("process_lost", "worker:pc")


def test_a_hub_started_while_redis_is_down_answers_503_then_serves_once_it_is_up(tmp_path):
    from tests.redis_server import RedisServer

    redis = RedisServer()  # its port, not listening yet
    with RunningHub(redis_url=redis.url) as hub, httpx.Client(base_url=hub.url, timeout=10) as http:
        down = http.get("/api/v1/sets")
        assert down.status_code == 503 and down.json()["error"]["code"] == "redis_unavailable"
        with redis:  # starts it (__enter__); stopped and its folder removed at the end
            for path in ("/api/v1/sets", "/api/v1/references", "/api/v1/alerts", "/api/v1/reference-jobs"):
                assert http.get(path).status_code == 200, path
            assert http.put("/api/v1/cameras/side/set", json=a_set()).json()["persisted"] is True
