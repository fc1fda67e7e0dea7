"""Adaptive quality end to end: a real camera client replaying a clip to a real hub, and an
analysis worker that is throttled, then recovers. The hub lowers the camera's target fps (and tier)
while the worker skips frames, the camera obeys, and the target climbs back once it keeps up."""

from __future__ import annotations

import threading
import time

import httpx

from analysis.worker import AnalysisWorker
from clients.config import CameraConfig, ClientConfig
from clients.runner import start_workers, stop_workers
from tests.analysis.test_worker_scheduling import run_worker
from tests.support import RunningHub, squat_clip, wait_until

CLIP = squat_clip("side_bodyweight_intellifit1.mp4")


class Throttled:
    """A ``FrameAnalyzer`` as slow as ``delay_s`` per frame while ``throttle`` is set."""

    throttle = threading.Event()
    delay_s = 0.15  # ~6.7 frames/s: a 20 fps camera loses 2 frames in 3

    def __init__(self, camera_id: str) -> None:
        self.camera_id = camera_id

    def analyze(self, image_bgr, *, seq, capture_time_ns):
        if self.throttle.is_set():
            time.sleep(self.delay_s)
        return {"pose_found": False, "rep_count": 0, "rep_phase": "top", "faults": []}

    def close(self) -> None:
        pass


def target(http: httpx.Client) -> dict | None:
    cams = http.get("/api/v1/cameras").json()["cameras"]
    return cams[0]["quality"] if cams else None


def hub_fps(http: httpx.Client) -> float:
    return http.get("/api/v1/cameras").json()["cameras"][0]["fps"]


def test_a_throttled_worker_lowers_the_cameras_rate_and_it_climbs_back_when_the_worker_recovers(tmp_path):
    assert CLIP.exists(), f"shared footage missing: {CLIP}"
    # CPU and ingest bounds out of reach: on a busy test machine only the worker's skips may decide.
    # Skip bounds wide apart: throttled, the worker skips 2 frames in 3 at 20 fps (a third at the
    # 10 fps floor); recovered, a starved test machine still makes it skip a few.
    hub = RunningHub(quality_adaptive=True, quality_settle_s=0.5, quality_window_s=1.5, quality_increase_fps=5.0,
                     quality_skipped_high=0.5, quality_skipped_low=0.3,
                     quality_cpu_high_percent=100, quality_cpu_low_percent=99, quality_ingest_latency_high_ms=5000,
                     quality_ingest_latency_low_ms=4000, quality_interval_s=0.25).start()
    Throttled.throttle.set()
    worker = AnalysisWorker(hub.url, Throttled, worker_id="w-slow", spool_dir=tmp_path / "spool")
    stop_worker = threading.Event()
    worker_thread = run_worker(worker, stop_worker)
    cams = start_workers(ClientConfig(hub_url=hub.url, status_interval_s=60, cameras=(
        CameraConfig(camera_id="side", source=str(CLIP), fps=20, max_width=640),)))
    try:
        with httpx.Client(base_url=hub.url) as http:
            assert wait_until(lambda: target(http) is not None, 20)
            assert target(http)["fps"] == 20.0 and target(http)["tier"] == 1
            assert wait_until(lambda: target(http)["fps"] <= 15.0, 20), target(http)
            low = target(http)
            assert low["reason"].startswith("analysis behind") and low["tier"] > 0, low
            # The camera obeys: within a second its frames arrive at the target rate, at the
            # tier's width (the hub's ring spans 1 s, so its rate is measured over the last second).
            assert wait_until(lambda: (t := cams[0].quality.target) is not None and t.fps <= 15.0, 1.0)
            # While the worker stays slow the target only goes down: the last second's frames were
            # all sent under this one or a lower one.
            obeyed = target(http)
            time.sleep(1.5)
            assert hub_fps(http) <= obeyed["fps"] * 1.2 + 1, (hub_fps(http), obeyed, target(http))
            latest = http.get("/api/v1/cameras/side/frame")
            assert int(latest.headers["x-frame-width"]) <= obeyed["width"]

            Throttled.throttle.clear()  # the worker recovers
            assert wait_until(lambda: target(http)["fps"] == 20.0, 30), (target(http)["reason"], hub_fps(http))
            assert target(http)["tier"] == 1 and target(http)["reason"] == "camera rate"
            assert wait_until(lambda: hub_fps(http) >= 17.0, 5), hub_fps(http)
    finally:
        assert not stop_workers(cams)
        stop_worker.set()
        worker_thread.join(10)
        hub.stop()
