"""End to end: a camera streams the real gaze clip, the worker runs pose + gaze, and a calibration
requested at the hub comes back in the results (real hub, client, worker and MediaPipe)."""

from __future__ import annotations

import threading

import httpx
import pytest

from analysis.worker import AnalysisWorker, default_analyzer
from clients.config import CameraConfig, ClientConfig
from clients.runner import start_workers, stop_workers
from tests.analysis.gaze.conftest import gaze_clip
from tests.analysis.test_worker_scheduling import run_worker
from tests.support import wait_until


def latest_gaze(hub_url: str) -> dict | None:
    r = httpx.get(hub_url + "/api/v1/cameras/laptop/analysis")
    return r.json()["gaze"] if r.status_code == 200 else None


@pytest.mark.skipif(not gaze_clip().exists(), reason="shared footage not found")
def test_calibration_requested_at_the_hub_sets_the_workers_target(hub):
    worker = AnalysisWorker(hub.url, default_analyzer, worker_id="gaze")
    stop = threading.Event()
    thread = run_worker(worker, stop)
    cams = start_workers(ClientConfig(hub_url=hub.url, status_interval_s=60, cameras=(
        CameraConfig(camera_id="laptop", source=str(gaze_clip())),)))
    try:
        # The first result waits for the models to load (seconds on a busy 2-core machine).
        assert wait_until(lambda: (latest_gaze(hub.url) or {}).get("face_found"), timeout=60), \
            httpx.get(hub.url + "/api/v1/cameras/laptop/analysis").text[:2000]
        first = latest_gaze(hub.url)
        assert first["target"]["calibrated"] is False and first["head"] is not None
        # 3 s: enough frames (MIN_SAMPLES = 5) even when a loaded CI machine analyses 2-3 fps.
        r = httpx.post(hub.url + "/api/v1/cameras/laptop/gaze/calibrate", json={"duration_s": 3.0})
        assert r.status_code == 202 and r.json()["workers"] == 1
        request_id = r.json()["request_id"]

        def finished():
            g = latest_gaze(hub.url) or {}
            cal = g.get("calibration") or {}
            ended = cal.get("request_id") == request_id and cal.get("state") in ("done", "failed")
            return g if ended else None

        done = wait_until(finished, timeout=30)
        assert done, latest_gaze(hub.url)
        assert done["calibration"]["state"] == "done", done["calibration"]
        assert done["target"]["calibrated"] and done["target"]["pitch"] < 0  # screen below the webcam

        assert httpx.delete(hub.url + "/api/v1/cameras/laptop/gaze/calibration").status_code == 202
        reset = lambda: (latest_gaze(hub.url) or {}).get("target", {}).get("calibrated") is False
        assert wait_until(reset, 20)
    finally:
        assert stop_workers(cams) == []
        stop.set()
        thread.join(15)
    assert not thread.is_alive()
