"""Two workers share a hub's cameras through leases: balanced, one worker per camera; when one is
killed (-9) the other takes its cameras over and the hub keeps the dead worker's open sets, closed
as ``worker_lost``; a worker that stops releases its cameras and closes its sets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import httpx

from analysis.worker import AnalysisWorker
from tests.analysis.test_worker_scheduling import run_worker
from tests.analysis.test_worker_set_delivery import RepEveryFrame
from tests.conftest import synthetic_jpeg
from tests.support import RunningHub, wait_until

CAMERAS = ("c1", "c2", "c3", "c4")


class WarmedRep(RepEveryFrame):
    """Records whether its models were loaded (``warm_up``) before its first frame."""

    warmed: list[str] = []

    def __init__(self, camera_id: str) -> None:
        super().__init__()
        self.camera_id = camera_id

    def warm_up(self) -> None:
        if not self.reps:
            WarmedRep.warmed.append(self.camera_id)
TTL_MS = 1000


def feed(hub_url: str, stop: threading.Event, fps: float = 15.0, clip_frames: int | None = None) -> threading.Thread:
    """Upload a frame of every camera ``fps`` times a second until ``stop``. With ``clip_frames``
    each camera replays a clip that long (``X-Source-Frame``): each replay ends a set."""
    frame = synthetic_jpeg(90)

    def run() -> None:
        seq = 0
        with httpx.Client(base_url=hub_url) as http:
            while not stop.wait(1 / fps):
                seq += 1
                headers = {"Content-Type": "image/jpeg", "X-Frame-Seq": str(seq)}
                if clip_frames:
                    headers["X-Source-Frame"] = str(seq % clip_frames)
                for cam in CAMERAS:
                    http.post(f"/api/v1/cameras/{cam}/frames", content=frame,
                              headers={**headers, "X-Capture-Time-Ns": str(time.time_ns())}).raise_for_status()

    thread = threading.Thread(target=run, name="feeder", daemon=True)
    thread.start()
    return thread


def holders(http: httpx.Client) -> dict[str, str]:
    return {lease["camera_id"]: lease["worker_id"] for lease in http.get("/api/v1/leases").json()["leases"]}


def analysed_by(http: httpx.Client, cam: str) -> str | None:
    result = http.get(f"/api/v1/cameras/{cam}/analysis")
    return result.json()["worker_id"] if result.status_code == 200 else None


def test_cameras_are_shared_taken_over_from_a_killed_worker_and_released_on_stop(tmp_path):
    hub = RunningHub(stale_after_s=30).start()
    dead = subprocess.Popen([sys.executable, "-m", "tests.analysis.lease_worker", hub.url, "w-dead", str(TTL_MS),
                             "4", str(tmp_path / "spool-dead")], cwd=os.getcwd())
    survivor = AnalysisWorker(hub.url, WarmedRep, worker_id="w-live",
                              spool_dir=tmp_path / "spool-live", max_cameras=4, lease_ttl_ms=TTL_MS)
    stop_worker, stop_feed = threading.Event(), threading.Event()
    thread = run_worker(survivor, stop_worker)
    feeder = None
    try:
        with httpx.Client(base_url=hub.url) as http:
            # Both alive (renewing) before the first frame, so neither takes every camera.
            assert wait_until(lambda: len(http.get("/api/v1/leases").json()["workers"]) == 2, 15)
            feeder = feed(hub.url, stop_feed)
            assert wait_until(lambda: len(holders(http)) == 4, 10), holders(http)
            # 2 each, unless a worker is slower than the hub's 1 s balancing grace (the stores' tests
            # check the exact rule): each camera has one holder, and both have some.
            assert set(Counter(holders(http).values())) == {"w-dead", "w-live"}
            theirs = sorted(cam for cam, worker in holders(http).items() if worker == "w-dead")
            # Each camera's results come from its holder only; the dead worker's sets are open.
            assert wait_until(lambda: all(analysed_by(http, cam) == worker for cam, worker in holders(http).items()
                                          ) and all(http.get(f"/api/v1/cameras/{cam}/set").status_code == 200
                                                    for cam in theirs), 10)
            open_sets = {cam: http.get(f"/api/v1/cameras/{cam}/set").json()["set_id"] for cam in theirs}

            dead.send_signal(signal.SIGKILL)
            dead.wait(5)
            assert wait_until(lambda: set(holders(http).values()) == {"w-live"} and len(holders(http)) == 4, 5)
            assert wait_until(lambda: all(analysed_by(http, cam) == "w-live" for cam in theirs), 5)
            assert survivor.leases.takeovers == len(theirs)
            # Its holder overdue, the survivor loaded the cameras' models before taking them over.
            assert sorted(WarmedRep.warmed) == theirs
            lost = {s["camera_id"]: s for s in http.get("/api/v1/sets").json()["sets"]
                    if s["end_reason"] == "worker_lost"}
            assert sorted(lost) == theirs
            assert {cam: s["set_id"] for cam, s in lost.items()} == open_sets
            assert all(s["reps"] >= 1 for s in lost.values())

            stop_feed.set()
            feeder.join(5)
            stop_worker.set()
            thread.join(15)
            assert holders(http) == {}
            stopped = [s for s in http.get("/api/v1/sets").json()["sets"] if s["end_reason"] == "worker_stopped"]
            assert sorted(s["camera_id"] for s in stopped) == list(CAMERAS)
    finally:
        stop_feed.set()
        stop_worker.set()
        thread.join(15)
        if dead.poll() is None:
            dead.kill()
        hub.stop()
