"""Heartbeats from real processes: a ``webcam_client.py`` process streaming a real clip (killed:
lost; stopped: says goodbye) and an analysis worker."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import threading

import httpx
import pytest

from analysis.heartbeat import send_heartbeats
from analysis.worker import AnalysisWorker
from clients.config import CameraConfig, ClientConfig
from clients.runner import start_workers, stop_workers
from formsync.heartbeat import process_id
from tests.support import ROOT, RunningHub, squat_clip, wait_until

SIDE = squat_clip("side_bodyweight_intellifit1.mp4")
pytestmark = pytest.mark.skipif(not SIDE.exists(), reason=f"shared footage not found at {SIDE.parent}")
CLIENT_ID = process_id("client", "side")


def processes(hub_url: str) -> dict[str, dict]:
    return {p["process_id"]: p for p in httpx.get(hub_url + "/api/v1/heartbeats").json()["processes"]}


def active(hub_url: str) -> set[tuple[str, str]]:
    return {(a["rule"], a["subject"]) for a in httpx.get(hub_url + "/api/v1/alerts").json()["active"]}


def start_client(hub: RunningHub) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "webcam_client.py", "--hub", hub.url, "--camera", f"side={SIDE}",
         "--max-width", "320", "--heartbeat-interval", "0.5", "--status-interval", "60",
         "--log-level", "WARNING"], cwd=ROOT)


def streaming(hub_url: str) -> bool:
    p = processes(hub_url).get(CLIENT_ID)
    return bool(p and p["cameras"] and p["cameras"][0]["sent_fps"] > 0)


@pytest.fixture
def monitored_hub(tmp_path):
    with RunningHub(monitor_interval_s=0.2, db_path=str(tmp_path / "hub.db")) as hub:
        yield hub


def test_a_killed_client_turns_lost_and_raises_a_critical_alert(monitored_hub):
    hub = monitored_hub
    client = start_client(hub)
    try:
        assert wait_until(lambda: streaming(hub.url), timeout=30), processes(hub.url)
        beat = processes(hub.url)[CLIENT_ID]
        cam = beat["cameras"][0]
        assert beat["role"] == "client" and beat["process"]["pid"] == client.pid
        assert beat["host"]["hostname"] == socket.gethostname() and 0 <= beat["host"]["cpu_percent"] <= 100
        assert cam["camera_id"] == "side" and 10 <= cam["capture_fps"] <= 40 and cam["sent_total"] > 0
        assert cam["clock_offset_ms"] is not None and cam["hub_up"] is True
        assert cam["upload_latency_p95_ms"] >= cam["upload_latency_p50_ms"] > 0
        client.kill()  # SIGKILL: no goodbye, no cleanup
        client.wait(10)
        # 3 missed 0.5 s intervals, then the next monitor round.
        assert wait_until(lambda: processes(hub.url)[CLIENT_ID]["lost"], timeout=5)
        assert wait_until(lambda: ("process_lost", CLIENT_ID) in active(hub.url), timeout=5)
        assert wait_until(lambda: ("camera_stale", "side") in active(hub.url), timeout=5)  # after 2 s
    finally:
        if client.poll() is None:
            client.kill()
            client.wait(10)


def test_a_client_stopped_on_purpose_says_goodbye(monitored_hub):
    hub = monitored_hub
    client = start_client(hub)
    try:
        assert wait_until(lambda: streaming(hub.url), timeout=30)
        client.send_signal(signal.SIGTERM)
        assert client.wait(10) == 0
        assert CLIENT_ID not in processes(hub.url)
        threading.Event().wait(2.0)  # longer than 3 intervals: still not lost, nothing fires
        assert CLIENT_ID not in processes(hub.url)
        assert ("process_lost", CLIENT_ID) not in active(hub.url)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait(10)


class InstantAnalyzer:
    """Finds no pose, at once: the heartbeat, not the analysis, is under test here."""

    def analyze(self, image_bgr, *, seq, capture_time_ns):
        return {"pose_found": False, "rep_count": 0, "rep_phase": "top", "faults": []}

    def close(self) -> None:
        pass


def test_an_analysis_worker_reports_its_cameras(monitored_hub):
    hub = monitored_hub
    worker = AnalysisWorker(hub.url, lambda cam: InstantAnalyzer(), worker_id="w1")
    stop = threading.Event()

    def run() -> None:
        async def amain() -> None:
            stop_async = asyncio.Event()
            watcher = asyncio.create_task(asyncio.to_thread(stop.wait))
            watcher.add_done_callback(lambda _: stop_async.set())
            beats = asyncio.create_task(send_heartbeats(worker, interval_s=0.3))
            await worker.run(stop_async)
            beats.cancel()
            await asyncio.gather(beats, return_exceptions=True)

        asyncio.run(amain())

    thread = threading.Thread(target=run, name="test-worker")
    thread.start()
    cams = start_workers(ClientConfig(hub_url=hub.url, status_interval_s=60, cameras=(
        CameraConfig(camera_id="side", source=str(SIDE), max_width=320),)))
    worker_id = process_id("worker", "w1")
    try:
        def analysing() -> bool:
            p = processes(hub.url).get(worker_id)
            return bool(p and p["analysis"] and p["analysis"][0]["analysis_fps"] > 0)

        assert wait_until(analysing, timeout=20), processes(hub.url)
        beat = processes(hub.url)[worker_id]
        [a] = beat["analysis"]
        assert beat["role"] == "worker" and a["camera_id"] == "side"
        assert a["analysed_total"] > 0 and a["latency_p95_ms"] >= a["latency_p50_ms"] >= 0
    finally:
        assert stop_workers(cams) == []
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert worker_id not in processes(hub.url)  # stopped on purpose: goodbye
