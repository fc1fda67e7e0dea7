"""Workers score against the hub's references: they upload the defaults a hub lacks, and a
reference rebuilt under the same name reaches them, so the next rep is scored against the new
version (results and sets say which, by content hash). Real hub, real worker with MediaPipe, a
real camera client replaying a real clip."""

from __future__ import annotations

import threading

import httpx
import pytest

from analysis.paths import DEFAULT_REFERENCES
from analysis.reference import ReferenceLibrary
from analysis.worker import AnalysisWorker, default_analyzer
from analysis.worker_references import WorkerReferences
from clients.config import CameraConfig, ClientConfig
from clients.runner import start_workers, stop_workers
from tests.analysis.test_reference_jobs import Idle, submit
from tests.analysis.test_worker_scheduling import run_worker
from tests.support import squat_clip, wait_until

CLIP = squat_clip("side_bodyweight_intellifit1.mp4")  # 6.25 s, 2 reps, side view, replayed in a loop
pytestmark = pytest.mark.skipif(not CLIP.exists(), reason="shared footage not found")


def stored(hub_url: str) -> dict[str, dict]:
    return {r["name"]: r for r in httpx.get(f"{hub_url}/api/v1/references").json()["references"]}


def test_a_worker_uploads_the_defaults_a_hub_lacks_once(hub):
    library = ReferenceLibrary()  # the session's, defaults already built
    expected = {name: library.load(name).content_hash for name, _ in DEFAULT_REFERENCES.values()}
    stop = threading.Event()
    first = AnalysisWorker(hub.url, lambda cam: Idle(), worker_id="a", references=WorkerReferences(library))
    threads = [run_worker(first, stop)]
    try:
        assert wait_until(lambda: len(stored(hub.url)) == 3, 30)
        refs = stored(hub.url)
        assert {n: r["content_hash"] for n, r in refs.items()} == expected
        assert {r["view"] for r in refs.values()} == {"side", "front", "oblique"}
        second = AnalysisWorker(hub.url, lambda cam: Idle(), worker_id="b", references=WorkerReferences(library))
        threads.append(run_worker(second, stop))
        assert wait_until(lambda: second.references.current is not None, 15)
        assert stored(hub.url) == refs  # nothing uploaded again
    finally:
        stop.set()
        for t in threads:
            t.join(15)


def latest(hub_url: str) -> dict:
    r = httpx.get(f"{hub_url}/api/v1/cameras/side/analysis")
    return r.json() if r.status_code == 200 else {}


def closed_sets(hub_url: str) -> list[dict]:
    return httpx.get(f"{hub_url}/api/v1/sets").json()["sets"]


def test_a_reference_rebuilt_under_the_same_name_scores_the_next_rep(hub):
    worker = AnalysisWorker(hub.url, lambda cam: default_analyzer(cam, gaze=False), worker_id="scorer", rest_s=30,
                            references=WorkerReferences(ReferenceLibrary()), build_references=True)
    stop = threading.Event()
    thread = run_worker(worker, stop)
    cams = start_workers(ClientConfig(hub_url=hub.url, status_interval_s=60, cameras=(
        CameraConfig(camera_id="side", source=str(CLIP)),)))
    try:
        assert wait_until(lambda: "default" in stored(hub.url), 30)
        old = stored(hub.url)["default"]["content_hash"]
        # Frames scored against the default of the side view, by its hash.
        assert wait_until(lambda: latest(hub.url).get("reference_hash") == old, 60), latest(hub.url)
        assert latest(hub.url)["reference"] == "default"

        # Rebuilt from another side clip under the same name, through the hub's build job.
        job = submit(hub.url, "default", CLIP.read_bytes(), CLIP.name).json()
        done = wait_until(lambda: httpx.get(f"{hub.url}/api/v1/reference-jobs/{job['job_id']}").json()
                          if httpx.get(f"{hub.url}/api/v1/reference-jobs/{job['job_id']}").json()["state"]
                          in ("done", "failed") else None, 120)
        assert done and done["state"] == "done", done
        new = done["content_hash"]
        assert new != old and stored(hub.url)["default"]["content_hash"] == new

        assert wait_until(lambda: latest(hub.url).get("reference_hash") == new, 30), latest(hub.url)
        switched = latest(hub.url)["capture_time_ns"]

        # The next set whose reps all came after the switch: each rep scored against the new version.
        def after_switch():
            return next((s for s in closed_sets(hub.url) if s["started_at_ns"] > switched and s["reps"]), None)

        later = wait_until(after_switch, 60)
        assert later, closed_sets(hub.url)
        assert {r["reference"] for r in later["reps_detail"]} == {"default"}
        assert {r["reference_hash"] for r in later["reps_detail"]} == {new}
        assert all(r["score"] is not None for r in later["reps_detail"])
        assert later["reference_hash"] == new
        # Over every saved rep in time order: no score (before the worker had uploaded the defaults to
        # the empty hub), then the old version, then the new one, never back.
        reps = sorted((r for s in closed_sets(hub.url) for r in s["reps_detail"]), key=lambda r: r["start_time_ns"])
        rank = {None: 0, old: 1, new: 2}
        versions = [rank[r["reference_hash"]] for r in reps]
        assert versions == sorted(versions) and versions[-1] == 2, versions
    finally:
        assert stop_workers(cams) == []
        stop.set()
        thread.join(15)


def test_the_cli_puts_a_library_reference_on_a_hub(hub):
    import subprocess
    import sys

    from analysis.paths import REPO_ROOT

    library = ReferenceLibrary()
    cmd = [sys.executable, "-m", "analysis", "--library", str(library.root), "reference", "upload", "default-front",
           "--hub", hub.url]
    out = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    expected = library.load("default-front").content_hash
    assert stored(hub.url)["default-front"]["content_hash"] == expected and expected in out.stdout
    missing = subprocess.run(cmd[:-3] + ["nope", "--hub", hub.url], cwd=REPO_ROOT, capture_output=True, text=True,
                             timeout=120)
    assert missing.returncode == 2 and "no reference" in missing.stderr
