"""Gaze on the hub: calibration requests become events for the workers; results carry a strict
``gaze`` field."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from websockets.sync.client import connect

from tests.conftest import synthetic_jpeg
from tests.server.test_analysis_api import result


def gaze(**over):
    body = {"face_found": True, "skipped": None, "face_box": [0.3, 0.2, 0.6, 0.7], "nose": [0.45, 0.5],
            "head": {"yaw": -4.0, "pitch": -10.5, "roll": 1.2}, "eyes": {"yaw": 1.0, "pitch": 3.0},
            "direction": {"yaw": -3.0, "pitch": -7.5}, "ear": 0.31, "eyes_closed": False, "blink": False,
            "blinks": 2, "on_target": True, "attention": 87.5,
            "target": {"yaw": 0.0, "pitch": 0.0, "cone_deg": 15.0, "calibrated": False},
            "calibration": {"state": "idle", "progress": 0.0, "request_id": None, "message": None},
            "processing_ms": 4.2}
    body.update(over)
    return body


def post_frame(http: httpx.Client, camera_id: str) -> None:
    r = http.post(f"/api/v1/cameras/{camera_id}/frames", content=synthetic_jpeg(1),
                  headers={"Content-Type": "image/jpeg", "X-Frame-Seq": "0",
                           "X-Capture-Time-Ns": str(time.time_ns())})
    assert r.status_code == 201, r.text


def test_calibration_request_reaches_subscribed_workers(hub):
    with connect(hub.url.replace("http", "ws") + "/api/v1/events?types=gaze_calibrate") as ws, \
            httpx.Client(base_url=hub.url) as http:
        post_frame(http, "front")
        r = http.post("/api/v1/cameras/front/gaze/calibrate", json={"duration_s": 3})
        assert r.status_code == 202, r.text
        out = r.json()
        assert (out["action"], out["duration_s"], out["workers"]) == ("start", 3.0, 1)
        event = json.loads(ws.recv(5))
        assert event == {"type": "gaze_calibrate", "camera_id": "front", "action": "start",
                         "request_id": out["request_id"], "duration_s": 3.0,
                         "requested_at_ns": out["requested_at_ns"]}
        # No body: the default 2 s. DELETE: back to the default target.
        assert http.post("/api/v1/cameras/front/gaze/calibrate").json()["duration_s"] == 2.0
        assert json.loads(ws.recv(5))["duration_s"] == 2.0
        reset = http.delete("/api/v1/cameras/front/gaze/calibration")
        assert reset.status_code == 202 and json.loads(ws.recv(5))["action"] == "reset"


def test_calibration_without_listeners_says_so(hub):
    with httpx.Client(base_url=hub.url) as http:
        post_frame(http, "side")
        assert http.post("/api/v1/cameras/side/gaze/calibrate").json()["workers"] == 0


@pytest.mark.parametrize("body", [{"duration_s": 0.1}, {"duration_s": 60}, {"duration_s": 2, "extra": 1}])
def test_bad_calibration_requests_are_rejected_by_name(hub, body):
    with httpx.Client(base_url=hub.url) as http:
        post_frame(http, "side")
        r = http.post("/api/v1/cameras/side/gaze/calibrate", json=body)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "validation_error" and "body" in err["message"]


def test_calibrating_an_unknown_camera_is_404(hub):
    r = httpx.post(hub.url + "/api/v1/cameras/nobody/gaze/calibrate")
    assert r.status_code == 404 and r.json()["error"]["code"] == "camera_not_found"


def test_result_with_gaze_round_trips(hub):
    with httpx.Client(base_url=hub.url) as http:
        r = http.post("/api/v1/cameras/front/analysis", json=result(1, time.time_ns(), gaze=gaze()))
        assert r.status_code == 201, r.text
        got = http.get("/api/v1/cameras/front/analysis").json()["gaze"]
        assert got["attention"] == 87.5 and got["head"]["roll"] == 1.2
        assert got["calibration"]["state"] == "idle"
        # Gaze is optional: a pose-only worker sends none.
        assert http.post("/api/v1/cameras/front/analysis", json=result(2, time.time_ns())).status_code == 201
        assert http.get("/api/v1/cameras/front/analysis").json()["gaze"] is None


@pytest.mark.parametrize("over,where", [
    ({"attention": 120.0}, "attention"),
    ({"head": {"yaw": 500.0, "pitch": 0.0, "roll": 0.0}}, "yaw"),
    ({"face_box": [0.1, 0.2, 0.3]}, "face_box"),
    ({"skipped": "asleep"}, "skipped"),
    ({"calibration": {"state": "maybe", "progress": 0.0}}, "state"),
    ({"gaze_extra": 1}, "gaze_extra"),
])
def test_invalid_gaze_is_rejected_by_name(hub, over, where):
    r = httpx.post(hub.url + "/api/v1/cameras/a/analysis", json=result(1, 1, gaze=gaze(**over)))
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "validation_error" and where in err["message"]
