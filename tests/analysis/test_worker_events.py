"""The worker's event follower survives what the hub sends and what goes wrong: a malformed event is
logged once, counted and skipped; any other failure restarts the follower with backoff; and the
worker's heartbeat says whether it follows the hub. Real hub on loopback, real worker."""

from __future__ import annotations

import asyncio
import json
import logging
import threading

import httpx
import pytest

from analysis.heartbeat import AnalysisRates
from analysis.worker import AnalysisWorker
from formsync.heartbeat import HeartbeatSender, HeartbeatSource, process_id
from formsync.hub_client import HubClient, open_session
from formsync.wire.events import (
    FrameEvent,
    GazeCalibrateEvent,
    ReferenceEvent,
    ReferenceJobEvent,
    UnknownEventType,
    parse_event,
)
from tests.analysis.test_worker_scheduling import run_worker
from tests.streamlit_app.conftest import post_frame
from tests.support import RunningHub, wait_until


class CountingAnalyzer:
    def __init__(self) -> None:
        self.seqs: list[int] = []

    def analyze(self, image_bgr, *, seq, capture_time_ns):
        self.seqs.append(seq)
        return {"pose_found": False, "rep_count": 0, "rep_phase": "top", "faults": []}

    def close(self) -> None:
        pass


def publish(hub: RunningHub, event: dict) -> None:
    """Publish ``event`` on the hub's event bus, on the hub's own loop (the bus is loop-only)."""
    loop = hub._server.servers[0].get_loop()
    done = threading.Event()

    def on_loop() -> None:
        hub.app.state.bus.publish(event)
        done.set()

    loop.call_soon_threadsafe(on_loop)
    assert done.wait(5)


FRAME = '{"type": "frame", "camera_id": "side", "seq": 3, "capture_time_ns": 10, "hub_receive_time_ns": 11'


@pytest.mark.parametrize("text", [
    "not json", "[]", '{"camera_id": "side"}', '{"type": "frame"}', '{"type": "frame", "camera_id": 5}',
    FRAME.replace('"side"', '"../etc"') + "}", FRAME.replace('"seq": 3', '"seq": -3') + "}",
    '{"type": "reference", "name": ""}',
    '{"type": "reference", "change": "stored", "name": "x", "content_hash": "not-a-hash"}',
    '{"type": "reference_job", "job": {"state": "queued"}}',
    '{"type": "gaze_calibrate", "camera_id": "side", "action": "explode", "request_id": "r", '
    '"requested_at_ns": 1}', '{"type": "sync_set"}',
])
def test_malformed_events_are_refused_whole(text):
    with pytest.raises(ValueError):
        parse_event(text)


def test_well_formed_events_parse_and_keep_unknown_fields_out():
    assert parse_event(FRAME + ', "new": 1}') == FrameEvent(camera_id="side", seq=3, capture_time_ns=10,
                                                            hub_receive_time_ns=11)
    stored = parse_event(json.dumps({"type": "reference", "change": "stored", "name": "deep",
                                     "content_hash": "ab" * 32, "chosen": None, "new": 1}))
    assert isinstance(stored, ReferenceEvent) and (stored.name, stored.change) == ("deep", "stored")
    cal = parse_event('{"type": "gaze_calibrate", "camera_id": "side", "action": "start", "duration_s": 2, '
                      '"request_id": "r", "requested_at_ns": 1}')
    assert isinstance(cal, GazeCalibrateEvent) and cal.action == "start" and cal.duration_s == 2.0
    job = {"job_id": "0" * 32, "name": "mine", "source": "mine.mp4", "state": "queued", "video_bytes": 10,
           "worker_id": None, "frames_done": 0, "frames_total": None, "attempts": 0, "content_hash": None,
           "error": None, "created_time_ns": 1, "updated_time_ns": 1}
    queued = parse_event(json.dumps({"type": "reference_job", "job": job}).encode())
    assert isinstance(queued, ReferenceJobEvent) and queued.job.state == "queued"
    with pytest.raises(UnknownEventType):
        parse_event('{"type": "replay_started", "camera_id": "side"}')


def test_malformed_events_are_skipped_and_counted_and_analysis_goes_on(hub, clip_jpegs, tmp_path, caplog):
    made: dict[str, CountingAnalyzer] = {}
    worker = AnalysisWorker(hub.url, lambda cam: made.setdefault(cam, CountingAnalyzer()), spool_dir=tmp_path)
    stop = threading.Event()
    thread = run_worker(worker, stop)
    caplog.set_level(logging.WARNING, logger="formsync.worker")
    try:
        assert wait_until(worker.connected.is_set)
        post_frame(hub.url, "side", 0, clip_jpegs[0])
        assert wait_until(lambda: "side" in made and made["side"].seqs == [0])
        for bad in ({"type": "frame"}, {"type": "frame", "camera_id": 5}, {"type": "camera_stale"},
                    {"type": "frame", "camera_id": None}):
            publish(hub, bad)
        post_frame(hub.url, "side", 1, clip_jpegs[1])
        assert wait_until(lambda: made["side"].seqs == [0, 1]), made["side"].seqs
        assert worker.bad_events == 4 and worker.following
        status = AnalysisRates(worker)()["worker"]
        assert status.bad_events_total == 4 and status.following
        assert status.follower_restarts_total == 0
    finally:
        stop.set()
        thread.join(10)
    # Logged once per malformed type, not per event, and without a traceback.
    logged = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert sorted(r.getMessage().split("'")[1] for r in logged) == ["camera_stale", "frame"]
    assert not any(r.exc_info for r in caplog.records)


def test_the_follower_restarts_after_any_failure_and_says_so_meanwhile(hub, clip_jpegs, tmp_path, caplog):
    made: dict[str, CountingAnalyzer] = {}
    worker = AnalysisWorker(hub.url, lambda cam: made.setdefault(cam, CountingAnalyzer()), spool_dir=tmp_path)
    failures = []
    real_sync = worker._on_connected
    gate = threading.Event()

    async def failing_sync():
        # A bug met on connecting, until the test has seen the worker report it.
        if not gate.is_set():
            failures.append(1)
            raise KeyError("name")
        await real_sync()

    worker._on_connected = failing_sync
    stop = threading.Event()
    thread = run_worker(worker, stop)
    try:
        # Retried, not dead (the count goes up just after the failure is raised: wait for both).
        assert wait_until(lambda: len(failures) >= 2 and worker.follower_restarts >= 2, 10)
        status = AnalysisRates(worker)()["worker"]
        assert status.following is False and "KeyError" in status.follow_error
        assert status.follower_restarts_total >= 2
        gate.set()
        assert wait_until(worker.connected.is_set, 15)
        post_frame(hub.url, "side", 0, clip_jpegs[0])
        assert wait_until(lambda: "side" in made and made["side"].seqs == [0])
        status = AnalysisRates(worker)()["worker"]
        assert status.following is True and status.follow_error is None
    finally:
        stop.set()
        thread.join(10)
    assert any("following" in r.getMessage() and r.exc_info for r in caplog.records)


def test_the_hub_shows_a_worker_that_cannot_follow_it(hub, tmp_path):
    """The heartbeat the hub keeps carries the worker's link: following, or why not."""
    worker = AnalysisWorker(hub.url, lambda cam: CountingAnalyzer(), worker_id="hb", spool_dir=tmp_path)
    worker.following, worker.follow_error = False, "WSServerHandshakeError: 502, message='Bad Gateway'"

    async def beat_once() -> bool:
        source = HeartbeatSource(process_id("worker", "hb"), "worker", build=AnalysisRates(worker))
        async with open_session() as session:
            return await HeartbeatSender(source, hub.url).send_once(HubClient(session, hub.url))

    assert asyncio.run(beat_once())
    procs = httpx.get(hub.url + "/api/v1/heartbeats").json()["processes"]
    (beat,) = [p for p in procs if p["role"] == "worker"]
    assert beat["worker"] == {"following": False, "follow_error": worker.follow_error,
                              "follower_restarts_total": 0, "bad_events_total": 0, "sets_pending": 0,
                              "sets_sent_total": 0}
