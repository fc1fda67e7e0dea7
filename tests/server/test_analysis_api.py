import json
import time

import httpx
import pytest
from websockets.sync.client import connect

from tests.redis_server import STORES, store_settings
from tests.support import RunningHub


@pytest.fixture(params=STORES)
def hub(request):
    """A real hub with embedded stores, then one with its state in Redis."""
    with RunningHub(**store_settings(request)) as running:
        yield running


def result(seq, t_ns, **over):
    body = {"seq": seq, "capture_time_ns": t_ns, "processing_ms": 12.5, "pose_found": True,
            "landmarks": [[0.5, 0.5, 0.0, 0.9]] * 33, "world_landmarks": [[0.0, 0.1, 0.0, 0.9]] * 33,
            "angles": {"knee_left": 92.0}, "view": "side", "score": 87.5,
            "rep": {"count": 2, "phase": "bottom", "rep_scores": [90.0, 85.0]},
            "faults": [{"code": "forward_lean", "severity": "warning", "cue": "Chest up", "view": "side",
                        "value": 48.0}]}
    body.update(over)
    return body


def test_result_round_trip_and_event(hub):
    with connect(hub.url.replace("http", "ws") + "/api/v1/events?types=analysis") as ws, \
            httpx.Client(base_url=hub.url) as http:
        t = time.time_ns()
        r = http.post("/api/v1/cameras/side/analysis", json=result(7, t))
        assert r.status_code == 201, r.text
        event = json.loads(ws.recv(5))
        assert (event["type"], event["camera_id"], event["seq"], event["reps"]) == ("analysis", "side", 7, 2)
        got = http.get("/api/v1/cameras/side/analysis").json()
        assert got["score"] == 87.5 and got["faults"][0]["code"] == "forward_lean"
        assert got["latency_ms"] >= 0 and len(got["landmarks"]) == 33


def test_older_result_does_not_replace_newer(hub):
    with httpx.Client(base_url=hub.url) as http:
        assert http.post("/api/v1/cameras/a/analysis", json=result(5, 5000)).status_code == 201
        late = http.post("/api/v1/cameras/a/analysis", json=result(4, 4000))
        assert late.status_code == 409 and late.json()["error"]["code"] == "stale_result"
        assert http.get("/api/v1/cameras/a/analysis").json()["seq"] == 5


@pytest.mark.parametrize("over", [
    {"score": 101.0}, {"landmarks": [[0.5, 0.5, 0.0]] * 33}, {"landmarks": [[0, 0, 0, 1]] * 5},
    {"unexpected": 1}, {"view": "top"}, {"faults": [{"code": "Bad Code", "severity": "warning", "cue": ""}]},
])
def test_invalid_results_are_rejected_by_name(hub, over):
    r = httpx.post(hub.url + "/api/v1/cameras/a/analysis", json=result(1, 1, **over))
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    assert httpx.get(hub.url + "/api/v1/cameras/a/analysis").status_code == 404
