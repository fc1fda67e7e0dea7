"""An analysis worker killed mid-stream: the hub marks the camera's results stale (on the analysis
GET, as an ``analysis_stale`` event, and so on the Coach page); a restarted worker resumes and the
results are fresh again. Real processes: hub, camera client on a real clip, MediaPipe worker."""

from __future__ import annotations

import time

import httpx
import pytest

from streamlit_app.poller import HubPoller
from streamlit_app.reliability_view import stale_analysis_message
from tests.reliability.processes import HubProcess, start_client, start_worker, stop
from tests.support import squat_clip, wait_until

SIDE = squat_clip("side_bodyweight_intellifit1.mp4")
pytestmark = pytest.mark.skipif(not SIDE.exists(), reason=f"shared footage not found at {SIDE.parent}")

STALE_AFTER_S = 1.5


def analysis(hub_url: str) -> dict | None:
    try:
        r = httpx.get(hub_url + "/api/v1/cameras/side/analysis", timeout=2)
    except httpx.HTTPError:
        return None
    return r.json() if r.status_code == 200 else None


def test_a_killed_worker_leaves_stale_results_and_a_restarted_one_resumes(tmp_path):
    hub = HubProcess(tmp_path, env={"FORMSYNC_HUB_ANALYSIS_STALE_AFTER_S": str(STALE_AFTER_S)}).start()
    client = start_client(hub.url, [f"side={SIDE}"], tmp_path / "client.log", "--max-width", "480", "--fps", "15")
    worker = start_worker(hub.url, tmp_path / "worker.log")
    poller = HubPoller(hub.url).start()
    try:
        # The first result takes MediaPipe's start-up (and the default reference, built once).
        assert wait_until(lambda: (a := analysis(hub.url)) is not None and not a["stale"], 120), \
            (tmp_path / "worker.log").read_text()[-3000:]
        assert poller.wait_for(lambda p: p.analysis("side").read()[1] is not None, 15)
        assert poller.analysis_stale_since("side") is None

        worker.kill()  # SIGKILL: no goodbye, no last set
        worker.wait(10)
        killed = time.monotonic()
        last_seq = analysis(hub.url)["seq"]
        assert wait_until(lambda: analysis(hub.url)["stale"], STALE_AFTER_S + 3), analysis(hub.url)
        stale = analysis(hub.url)
        assert stale["age_ms"] >= STALE_AFTER_S * 1000 and stale["seq"] == last_seq
        assert time.monotonic() - killed <= STALE_AFTER_S + 2
        # The dashboard learns it from the hub's event and says so on the Coach page.
        assert poller.wait_for(lambda p: p.analysis_stale_since("side") is not None, 5)
        message = stale_analysis_message(poller.analysis_stale_since("side"), time.time_ns())
        assert message and "analysis.worker" in message

        worker = start_worker(hub.url, tmp_path / "worker.log")
        assert wait_until(lambda: (a := analysis(hub.url)) is not None and not a["stale"] and a["seq"] > last_seq,
                          120), (tmp_path / "worker.log").read_text()[-3000:]
        assert poller.wait_for(lambda p: p.analysis_stale_since("side") is None, 10)
        assert client.poll() is None and hub.proc.poll() is None
    finally:
        poller.stop()
        stop(worker)
        stop(client)
        hub.stop()
