"""The Coach page under AppTest against a real hub, a real analysis worker (MediaPipe) and a
real camera client replaying a real clip."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from analysis.worker import AnalysisWorker, default_analyzer
from clients.config import CameraConfig, ClientConfig
from clients.runner import start_workers, stop_workers
from streamlit_app.resources import get_poller
from tests.analysis.test_worker_scheduling import run_worker
from tests.streamlit_app.test_pages import TIMEOUT_S, _stop_pollers, alts, images  # noqa: F401
from tests.support import squat_clip, wait_until

COACH = Path(__file__).resolve().parents[2] / "pages" / "coach.py"
CLIP = squat_clip("side_bodyweight_intellifit1.mp4")


@pytest.fixture
def pipeline(hub):
    """Hub + worker + one camera replaying the reference clip (6.25 s, 2 reps, looped)."""
    worker = AnalysisWorker(hub.url, default_analyzer, worker_id="coach-test", rest_s=30)
    stop = threading.Event()
    thread = run_worker(worker, stop)
    cams = start_workers(ClientConfig(hub_url=hub.url, status_interval_s=60, cameras=(
        CameraConfig(camera_id="side", source=str(CLIP)),)))
    try:
        yield hub
    finally:
        assert stop_workers(cams) == []
        stop.set()
        thread.join(15)


@pytest.mark.skipif(not CLIP.exists(), reason="shared footage not found")
def test_coach_page_shows_skeleton_reference_score_reps_and_history(pipeline, monkeypatch):
    hub = pipeline
    monkeypatch.setenv("FORMSYNC_HUB_URL", hub.url)
    # Two passes of the clip (the first may start while the worker still loads its models): the
    # second pass's two reps are saved as a set when the replay starts over.
    assert wait_until(lambda: len(httpx.get(hub.url + "/api/v1/sets").json()["sets"]) >= 2, timeout=60)
    at = AppTest.from_file(str(COACH), default_timeout=TIMEOUT_S).run()
    assert not at.exception
    poller = get_poller(hub.url)
    assert poller.wait_for(lambda p: p.analysis("side").version and len(p.trend("side")) >= 3 and p.sets(), 15)
    _, analysed = poller.analysis("side").read()

    at.run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Coach"
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {"Score", "Reps", "Phase", "Attention", "Latency"}
    assert metrics["Reps"].isdigit()
    shown_alts = [a for body in images(at) for a in alts(body)]
    assert any(a.startswith("side seq ") and a.endswith(" with pose") for a in shown_alts), shown_alts
    assert any(a.startswith("reference default frame ") for a in shown_alts), shown_alts
    assert analysed.overlay_jpeg is not None and analysed.overlay_jpeg != analysed.image.jpeg
    # History: the saved set with its two reps and their scores.
    table = at.dataframe[0].value
    newest = table.iloc[0]
    assert newest["camera"] == "side" and newest["ended by"] == "source restart"
    # Two reps per pass (one on a starved machine: see tests/analysis/test_worker_sets.py).
    assert 1 <= newest["reps"] <= 2 and len(newest["rep scores"].split(", ")) == newest["reps"]
    # The reference chooser lists the library, with the workers' default selected.
    assert at.selectbox[0].value == "default" and "default" in at.selectbox[0].options
