"""A worker given two hubs sharing Redis moves to the second when the one it follows goes away,
keeps its camera's lease (no ``worker_lost``) and goes on analysing it through the other hub."""

from __future__ import annotations

import threading
import time

import httpx

from analysis.worker import AnalysisWorker
from tests.analysis.test_worker_leases import analysed_by, holders
from tests.analysis.test_worker_scheduling import run_worker
from tests.analysis.test_worker_set_delivery import RepEveryFrame
from tests.conftest import synthetic_jpeg
from tests.support import RunningHub, wait_until


def _feed(urls: list[str], stop: threading.Event, fps: float = 15.0) -> threading.Thread:
    """Upload frames of camera ``side``, to the first hub that takes them (as a camera client with
    two hubs does)."""
    frame = synthetic_jpeg(90)

    def run() -> None:
        seq = 0
        while not stop.wait(1 / fps):
            seq += 1
            for url in urls:
                try:
                    httpx.post(f"{url}/api/v1/cameras/side/frames", content=frame, timeout=2, headers={
                        "Content-Type": "image/jpeg", "X-Frame-Seq": str(seq),
                        "X-Capture-Time-Ns": str(time.time_ns())}).raise_for_status()
                    break
                except httpx.HTTPError:
                    continue

    thread = threading.Thread(target=run, name="feeder", daemon=True)
    thread.start()
    return thread


def test_a_worker_moves_to_the_next_hub_and_keeps_its_camera(tmp_path, redis_url):
    first = RunningHub(redis_url=redis_url, upload_rate_factor=0, stale_after_s=30).start()
    second = RunningHub(redis_url=redis_url, upload_rate_factor=0, stale_after_s=30).start()
    worker = AnalysisWorker([first.url, second.url], lambda cam: RepEveryFrame(), worker_id="w-two-hubs",
                            spool_dir=tmp_path / "spool", lease_ttl_ms=2000)
    stop_worker, stop_feed = threading.Event(), threading.Event()
    thread = run_worker(worker, stop_worker)
    feeder = _feed([first.url, second.url], stop_feed)
    try:
        with httpx.Client(base_url=second.url, timeout=5) as http:
            assert wait_until(lambda: analysed_by(http, "side") == "w-two-hubs", 20)
            assert worker.hub_url == first.url
            first.stop()
            stopped_ns = time.time_ns()

            def analysed_since() -> bool:
                r = http.get("/api/v1/cameras/side/analysis")
                return r.status_code == 200 and r.json()["capture_time_ns"] > stopped_ns

            assert wait_until(analysed_since, 5), worker.follow_error
            assert worker.hub_url == second.url and worker.following
            assert holders(http) == {"side": "w-two-hubs"}
            live = http.get("/api/v1/cameras/side/set").json()
            assert live["status"] == "open", live  # not closed as worker_lost: the lease was kept
    finally:
        stop_feed.set()
        feeder.join(5)
        stop_worker.set()
        thread.join(15)
        second.stop()
        first.stop()
