"""Every closed set reaches the hub once, in order, through slow answers, refusals and outages.

A real hub (uvicorn on loopback) and the real worker, driven by a scripted analyser whose every
analysed frame completes a rep, so the tests choose when sets open and close. The hub's set
store is wrapped to be slow or failing, the way a busy disk or a hub bug would make it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from analysis.worker import AnalysisWorker
from tests.analysis.test_worker_scheduling import run_worker
from tests.streamlit_app.conftest import post_frame
from tests.support import RunningHub, wait_until


class RepEveryFrame:
    """A ``SetAnalyzer`` whose every analysed frame completes one rep (score 80)."""

    def __init__(self) -> None:
        self.reps: list[dict] = []

    def analyze(self, image_bgr, *, seq, capture_time_ns):
        rep = {"rep": len(self.reps) + 1, "start_seq": seq, "bottom_seq": seq, "end_seq": seq,
               "start_time_ns": capture_time_ns, "end_time_ns": capture_time_ns, "score": 80.0,
               "faults": [], "view": "side"}
        self.reps.append(rep)
        return {"pose_found": True, "rep_count": len(self.reps), "rep_phase": "top", "rep": rep,
                "faults": []}

    def summary(self) -> dict:
        return {"reps": len(self.reps), "reps_detail": list(self.reps), "faults": [], "view": "side",
                "mean_score": 80.0 if self.reps else None}

    def start_new_set(self, reset_motion: bool = False) -> None:
        self.reps = []

    def close(self) -> None:
        pass


class RecordingSets:
    """The hub's set store, recording every PUT (camera, set id, status) before passing it on;
    ``delay_s`` makes each PUT that slow, ``fail`` makes the next N PUTs raise (the hub answers 500)."""

    def __init__(self, inner, delay_s: float = 0.0, fail: int = 0) -> None:
        self.inner, self.delay_s, self.fail = inner, delay_s, fail
        self.puts: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def put(self, camera_id: str, body: dict):
        with self._lock:
            self.puts.append((camera_id, body["set_id"], body["status"]))
            failing = self.fail > 0
            self.fail -= failing
        if failing:
            raise RuntimeError("set store failure injected by the test")
        threading.Event().wait(self.delay_s)  # a slow disk, in the hub's thread pool
        return self.inner.put(camera_id, body)

    def statuses(self, set_id: str) -> list[str]:
        return [status for _, sid, status in self.puts if sid == set_id]

    def __getattr__(self, name):
        return getattr(self.inner, name)


def sets_of(hub_url: str) -> list[dict]:
    return httpx.get(hub_url + "/api/v1/sets").json()["sets"]


def start(hub: RunningHub, tmp_path: Path, **kwargs):
    """A worker with a ``RepEveryFrame`` per camera, following ``hub``: (worker, stop, thread)."""
    worker = AnalysisWorker(hub.url, lambda cam: RepEveryFrame(), spool_dir=tmp_path / "spool", **kwargs)
    stop = threading.Event()
    thread = run_worker(worker, stop)
    assert wait_until(worker.connected.is_set, 10)
    return worker, stop, thread


def test_a_set_closing_while_its_update_is_in_flight_is_sent_after_it(tmp_path, clip_jpegs):
    # The camera goes stale 0.5 s after its only frame, while the worker's PUT of the open set
    # still waits on a slow hub: the closed set must follow that PUT, not replace or lose it.
    hub = RunningHub(stale_after_s=0.5).start()
    sets = hub.app.state.sets = RecordingSets(hub.app.state.sets, delay_s=1.5)
    worker, stop, thread = start(hub, tmp_path)
    try:
        post_frame(hub.url, "side", 0, clip_jpegs[0])
        assert wait_until(lambda: len(sets_of(hub.url)) == 1, 15), sets.puts
        closed = sets_of(hub.url)[0]
        assert closed["end_reason"] == "camera_stale" and closed["reps"] == 1
        assert wait_until(lambda: worker.sets_pending == 0, 5)
        assert sets.statuses(closed["set_id"]) == ["open", "closed"]
        assert httpx.get(hub.url + "/api/v1/cameras/side/set").json()["status"] == "closed"
    finally:
        stop.set()
        thread.join(15)
        hub.stop()
    assert [s for s in sets.puts if s[2] == "closed"] == [("side", closed["set_id"], "closed")]


def test_sets_the_hub_fails_to_take_are_retried_until_it_does(tmp_path, clip_jpegs):
    hub = RunningHub(stale_after_s=0.5).start()
    sets = hub.app.state.sets = RecordingSets(hub.app.state.sets, fail=4)
    worker, stop, thread = start(hub, tmp_path)
    try:
        # Nothing else happens after the set closes: no frame, no event; the retry alone sends it.
        post_frame(hub.url, "side", 0, clip_jpegs[0])
        assert wait_until(lambda: len(sets_of(hub.url)) == 1, 20), sets.puts
        set_id = sets_of(hub.url)[0]["set_id"]
        assert sets.statuses(set_id)[-1] == "closed" and sets.statuses(set_id).count("closed") >= 1
        assert len(sets.puts) >= 5  # 4 refused, then taken
        assert wait_until(lambda: worker.sets_pending == 0, 5)
        assert not list((tmp_path / "spool").glob("*.json"))  # acknowledged: no longer spooled
    finally:
        stop.set()
        thread.join(15)
        hub.stop()


def test_a_set_closed_while_the_hub_is_down_reaches_it_after_a_worker_restart(tmp_path, clip_jpegs):
    hub = RunningHub().start()
    port, db = hub.port, hub.settings.db_path
    worker, stop, thread = start(hub, tmp_path)
    try:
        post_frame(hub.url, "side", 0, clip_jpegs[0])
        assert wait_until(lambda: "side" in worker.tracks and worker.tracks["side"].analysed >= 1, 10)
        assert wait_until(lambda: worker.sets_pending == 0, 10)  # the open set reached the hub
        hub.stop()
        # The worker stops while the hub is down: its set ends (worker_stopped) and cannot be sent.
        started = time.monotonic()
        stop.set()
        thread.join(15)
        assert not thread.is_alive() and time.monotonic() - started < 10
        assert len(list((tmp_path / "spool").glob("*.json"))) == 1
    finally:
        stop.set()
        hub.stop()
    hub = RunningHub(port=port, db_path=db).start()
    worker, stop, thread = start(hub, tmp_path)
    try:
        assert wait_until(lambda: len(sets_of(hub.url)) == 1, 15)
        saved = sets_of(hub.url)[0]
        assert saved["end_reason"] == "worker_stopped" and saved["reps"] == 1
        assert wait_until(lambda: not list((tmp_path / "spool").glob("*.json")), 5)
    finally:
        stop.set()
        thread.join(15)
        hub.stop()
