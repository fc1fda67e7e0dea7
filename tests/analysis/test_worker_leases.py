"""Two workers share a hub's cameras through leases: balanced, one worker per camera; when one is
killed (-9) the other takes its cameras over and the hub keeps the dead worker's open sets, closed
as ``worker_lost``; a worker that stops releases its cameras and closes its sets. A worker cut off
by a hub restart longer than a lease lifetime closes its own sets as ``worker_lost``: the
restarted hub has forgotten them."""

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
from tests.analysis.test_worker_set_delivery import RepEveryFrame, sets_of
from tests.conftest import synthetic_jpeg
from tests.streamlit_app.conftest import post_frame
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


class RecordsNewSets(RepEveryFrame):
    resets: list[bool] = []

    def start_new_set(self, reset_motion: bool = False) -> None:
        RecordsNewSets.resets.append(reset_motion)
        super().start_new_set(reset_motion)


def test_a_set_cut_off_by_a_hub_restart_is_closed_by_its_worker_and_saved(tmp_path, clip_jpegs):
    hub = RunningHub(stale_after_s=30).start()
    port, db = hub.port, hub.settings.db_path
    worker = AnalysisWorker(hub.url, lambda cam: RecordsNewSets(), spool_dir=tmp_path / "spool", lease_ttl_ms=TTL_MS)
    stop = threading.Event()
    thread = run_worker(worker, stop)
    assert wait_until(worker.connected.is_set, 10)
    try:
        for seq in (1, 2):  # two analysed frames: two reps of an open set
            post_frame(hub.url, "side", seq, clip_jpegs[seq])
            assert wait_until(lambda seq=seq: "side" in worker.tracks and worker.tracks["side"].analysed >= seq, 10)
        assert wait_until(lambda: httpx.get(f"{hub.url}/api/v1/cameras/side/set").json()["reps"] == 2, 10)
        open_set = httpx.get(f"{hub.url}/api/v1/cameras/side/set").json()
        assert open_set["status"] == "open"

        # Down for longer than a lease lifetime; back with a fresh memory (its database kept).
        hub.stop()
        assert wait_until(lambda: "side" not in worker.leases.held, 3 * TTL_MS / 1e3)
        hub = RunningHub(port=port, db_path=db, stale_after_s=30).start()
        assert wait_until(lambda: sets_of(hub.url), 15)
        [saved] = sets_of(hub.url)
        assert (saved["set_id"], saved["end_reason"], saved["reps"]) == (open_set["set_id"], "worker_lost", 2)
        assert [r["rep"] for r in saved["reps_detail"]] == [1, 2]
        # Not analysed for a lease lifetime: a rep under way then starts no rep of the next set.
        assert RecordsNewSets.resets == [True]

        # The camera streams on: once the worker follows the hub again it wins the lease back and
        # starts a new set.
        seqs = iter(range(3, 10_000))

        def new_set() -> bool:
            post_frame(hub.url, "side", next(seqs), clip_jpegs[3])
            return httpx.get(f"{hub.url}/api/v1/cameras/side/set").json()["set_id"] != open_set["set_id"]
        assert wait_until(new_set, 20, 0.2)
        assert wait_until(lambda: worker.sets_pending == 0, 5)
        assert [s["set_id"] for s in sets_of(hub.url)] == [open_set["set_id"]]
    finally:
        stop.set()
        thread.join(15)
        hub.stop()
