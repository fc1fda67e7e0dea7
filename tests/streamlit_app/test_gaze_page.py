"""The Gaze page under AppTest against a real hub: the camera's attention, gaze arrow and chart
from results posted as a worker posts them, and the calibration buttons reaching a listener."""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import httpx
import pytest
from streamlit.testing.v1 import AppTest
from websockets.sync.client import connect

from analysis.paths import data_dir
from streamlit_app.resources import get_poller
from tests.server.test_analysis_api import result
from tests.server.test_gaze_api import gaze
from tests.streamlit_app.conftest import post_frame
from tests.streamlit_app.test_pages import TIMEOUT_S, _stop_pollers, alts, images  # noqa: F401

GAZE_PAGE = Path(__file__).resolve().parents[2] / "pages" / "gaze.py"
CLIP = data_dir() / "gaze" / "laptop_gaze_1.mp4"


@pytest.fixture(scope="module")
def face_jpeg() -> bytes:
    if not CLIP.exists():
        pytest.skip(f"shared footage not found at {CLIP}")
    cap = cv2.VideoCapture(str(CLIP))
    ok, frame = cap.read()
    cap.release()
    assert ok
    return cv2.imencode(".jpg", cv2.resize(frame, (640, 427)), [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()


def post_results(hub_url: str, jpeg: bytes, n: int = 4) -> None:
    """Frames 0..n-1 of camera "laptop", each followed by its analysis result with gaze, the
    person looking down a little more each frame and blinking on the last."""
    base = time.time_ns()
    for seq in range(n):
        t = base + seq * 100_000_000
        post_frame(hub_url, "laptop", seq, jpeg, t)
        last = seq == n - 1
        g = gaze(direction={"yaw": -3.0, "pitch": -5.0 - 5 * seq}, blink=last, blinks=int(last),
                 on_target=not last, attention=100.0 - 10 * seq)
        r = httpx.post(f"{hub_url}/api/v1/cameras/laptop/analysis", json=result(seq, t, gaze=g))
        assert r.status_code == 201, r.text
        time.sleep(0.15)  # lets the poller fetch each result: the chart needs several


def test_gaze_page_shows_attention_arrow_chart_and_calibrates(hub, face_jpeg, monkeypatch):
    monkeypatch.setenv("FORMSYNC_HUB_URL", hub.url)
    with connect(hub.url.replace("http", "ws") + "/api/v1/events?types=gaze_calibrate") as worker_ws:
        at = AppTest.from_file(str(GAZE_PAGE), default_timeout=TIMEOUT_S).run()
        assert not at.exception
        poller = get_poller(hub.url)
        post_results(hub.url, face_jpeg)
        def all_fetched(p) -> bool:
            _, latest = p.analysis("laptop").read()
            with_gaze = sum(bool(r.gaze) for r in p.trend("laptop"))
            return latest is not None and latest.analysis.seq == 3 and with_gaze >= 3

        assert poller.wait_for(all_fetched, 10)

        at.run()
        assert not at.exception and not at.error
        assert at.title[0].value == "Gaze" and at.selectbox[0].value == "laptop"
        metrics = {m.label: m.value for m in at.metric}
        assert metrics == {"Attention": "70 %", "On target": "no", "Blinks": "1", "Head pitch": "-10°"}
        # The camera's live frames with the gaze arrow drawn in the browser (streamlit_app/live_view).
        views = [json.loads(c.proto.json_args) for c in at.get("component_instance")]
        assert [(v["cameras"], v["overlay"]) for v in views] == [(["laptop"], True)]
        assert len(at.get("vega_lite_chart")) == 1
        captions = "\n".join(c.value for c in at.caption)
        assert "gaze yaw -3°, pitch -20° · off target" in captions
        assert "straight into the camera" in captions

        at.button(key="gaze_cal_laptop").click().run()
        assert not at.exception and not at.error and not at.warning
        event = json.loads(worker_ws.recv(5))
        assert (event["type"], event["camera_id"], event["action"], event["duration_s"]) == \
            ("gaze_calibrate", "laptop", "start", 2.0)
        at.button(key="gaze_reset_laptop").click().run()
        assert json.loads(worker_ws.recv(5))["action"] == "reset"


def test_gaze_page_without_gaze_results_says_where_they_come_from(hub, face_jpeg, monkeypatch):
    monkeypatch.setenv("FORMSYNC_HUB_URL", hub.url)
    at = AppTest.from_file(str(GAZE_PAGE), default_timeout=TIMEOUT_S).run()
    poller = get_poller(hub.url)
    assert poller.wait_for(lambda p: p.connection().connected, 10)
    # A pose-only worker's result (no gaze field), sent once the poller follows the events.
    post_frame(hub.url, "side", 0, face_jpeg)
    r = httpx.post(f"{hub.url}/api/v1/cameras/side/analysis", json=result(0, time.time_ns()))
    assert r.status_code == 201
    assert poller.wait_for(lambda p: p.analysis("side").version and p.cameras(), 10)
    at.run()
    assert not at.exception and not at.error
    assert "No gaze from side yet" in at.info[0].value
    # Calibrating without a worker listening says so instead of pretending.
    at.button(key="gaze_cal_side").click().run()
    assert "No analysis worker is listening" in at.warning[0].value
