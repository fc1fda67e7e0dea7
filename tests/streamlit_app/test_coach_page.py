"""The Coach page under AppTest against a real hub, a real analysis worker (MediaPipe) and a
real camera client replaying a real clip. The dashboard runs as on a second checkout: its own
working directory and an empty reference library, so every reference picture it shows comes
from the hub."""

from __future__ import annotations

import base64
import json
import re
import threading
from pathlib import Path

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from analysis.reference import ReferenceLibrary
from analysis.worker import AnalysisWorker, default_analyzer
from analysis.worker_references import WorkerReferences
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
    """Hub + worker + one camera replaying the reference clip (6.25 s, 2 reps, looped). The worker
    uploads the default references from its own library (the test session's) to the empty hub."""
    worker = AnalysisWorker(hub.url, default_analyzer, worker_id="coach-test", rest_s=30,
                            references=WorkerReferences(ReferenceLibrary()))
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
def test_coach_page_shows_skeleton_reference_score_reps_and_history(pipeline, monkeypatch, tmp_path):
    hub = pipeline
    laptop = tmp_path / "laptop"  # the dashboard's machine: its own var/, no references
    (laptop / "var" / "references").mkdir(parents=True)
    monkeypatch.chdir(laptop)
    monkeypatch.setenv("FORMSYNC_REFERENCE_DIR", str(laptop / "var" / "references"))
    monkeypatch.setenv("FORMSYNC_HUB_URL", hub.url)
    # Two passes of the clip (the first may start while the worker still loads its models): the
    # second pass's two reps are saved as a set when the replay starts over.
    assert wait_until(lambda: len(httpx.get(hub.url + "/api/v1/sets").json()["sets"]) >= 2, timeout=60)
    at = AppTest.from_file(str(COACH), default_timeout=TIMEOUT_S).run()
    assert not at.exception
    poller = get_poller(hub.url)
    assert poller.wait_for(lambda p: p.analysis("side").version and len(p.trend("side")) >= 3 and p.sets()
                           and (p.analysis("side").read()[1].reference_jpeg is not None), 15)
    _, analysed = poller.analysis("side").read()

    at.run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Coach"
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {"Score", "Reps", "Phase", "Attention", "Latency"}
    assert metrics["Reps"].isdigit()
    bodies = images(at)
    shown_alts = [a for body in bodies for a in alts(body)]
    # The camera itself: its live view, with the skeleton drawn in the browser from its results.
    views = [json.loads(c.proto.json_args) for c in at.get("component_instance")]
    assert [(v["cameras"], v["overlay"]) for v in views] == [(["side"], True)], views
    assert views[0]["connections"] and views[0]["token"]
    # The reference beside the user is the hub's picture of the matched frame of that reference.
    pattern = re.compile(r'alt="reference default frame (\d+)"')
    shown = [(int(m.group(1)), body) for body in bodies if (m := pattern.search(body))]
    assert shown, shown_alts
    seq, body = shown[0]
    served = httpx.get(f"{hub.url}/api/v1/references/default/frames/{seq}.jpg").content
    assert base64.b64encode(served).decode() in body
    assert list((laptop / "var" / "references").iterdir()) == []  # nothing read or written here
    assert poller.frame_fetches == {}  # no frame downloaded to be drawn on here
    # The trend chart's reference curve comes from the hub's data.
    assert poller.wait_for(lambda p: p.reference_angles("default", analysed.analysis.reference_hash), 10)
    # History: the saved set with its two reps and their scores.
    table = at.dataframe[0].value
    newest = table.iloc[0]
    assert newest["camera"] == "side" and newest["ended by"] == "source restart"
    # Two reps per pass (one on a starved machine: see tests/analysis/test_worker_sets.py).
    assert 1 <= newest["reps"] <= 2 and len(newest["rep scores"].split(", ")) == newest["reps"]
    # The reference chooser lists the hub's references, with the workers' default selected.
    assert at.selectbox[0].value == "default"
    assert set(at.selectbox[0].options) >= {"default · side view · 2 reps · from side_barbell_rohanx01.mp4"}
