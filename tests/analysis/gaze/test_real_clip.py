"""Real MediaPipe Face Mesh on the real gaze clip (../shared/data/gaze/laptop_gaze_1.mp4): a face in
most frames, the documented output shape, the hub accepting it, the combined pose + gaze path and
the offline CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from analysis.gaze.analyzer import GazeAnalyzer
from analysis.gaze.face_mesh import FaceMeshEstimator
from analysis.gaze.face_model import NUM_FACE_LANDMARKS
from analysis.paths import REPO_ROOT
from formsync.wire.gaze import GazeOut
from tests.analysis.gaze.conftest import gaze_clip

KEYS = {"face_found", "skipped", "face_box", "nose", "head", "eyes", "direction", "ear", "eyes_closed",
        "blink", "blinks", "on_target", "attention", "target", "calibration", "processing_ms"}


@pytest.fixture(scope="module")
def gaze_results(gaze_frames):
    with GazeAnalyzer("laptop") as analyzer:
        return [analyzer.analyze(f, seq=s, capture_time_ns=t) for f, t, s in gaze_frames]


def test_face_mesh_finds_the_face_with_irises(gaze_frames):
    with FaceMeshEstimator() as est:
        faces = [est.estimate(f) for f, _, _ in gaze_frames[:30]]
    found = [f for f in faces if f is not None]
    assert len(found) >= 0.9 * len(faces)
    face = found[0]
    assert face.landmarks_px.shape == (NUM_FACE_LANDMARKS, 3) and face.image_size == (1080, 720)
    x0, y0, x1, y1 = face.box_px
    # A laptop webcam close-up: the face fills a good part of the 1080x720 frame.
    assert 0 <= x0 < x1 <= 1080 and 0 <= y0 < y1 <= 720 and 150 < x1 - x0 < 700
    # Each iris centre lies between its eye's corners.
    for iris, a, b in ((468, 33, 133), (473, 362, 263)):
        lo, hi = sorted((face.landmarks_px[a, 0], face.landmarks_px[b, 0]))
        assert lo < face.landmarks_px[iris, 0] < hi


def test_results_have_the_documented_shape(gaze_results):
    assert sum(r["face_found"] for r in gaze_results) >= 0.9 * len(gaze_results)
    for r in gaze_results:
        assert set(r) == KEYS
        json.dumps(r)
        GazeOut.model_validate(r)  # the hub's wire model accepts every frame
        if r["face_found"]:
            assert -90 <= r["head"]["yaw"] <= 90 and -90 <= r["head"]["pitch"] <= 90
            assert 0.15 < r["ear"] < 0.5  # open eyes in this clip
            assert r["direction"]["yaw"] == pytest.approx(r["head"]["yaw"] + r["eyes"]["yaw"], abs=0.02)
    attention = [r["attention"] for r in gaze_results[1:]]
    assert all(0 <= a <= 100 for a in attention)
    assert gaze_results[-1]["target"] == {"yaw": 0.0, "pitch": 0.0, "cone_deg": 15.0, "calibrated": False}


def test_person_faces_the_laptop_in_the_first_seconds(gaze_results):
    """The clip opens with the person looking at the laptop screen just below the webcam: head and
    gaze within ~15 degrees of the camera, looking slightly down, and so on target."""
    heads = np.array([[r["head"]["yaw"], r["head"]["pitch"]] for r in gaze_results[:45]])
    gaze = np.array([[r["direction"]["yaw"], r["direction"]["pitch"]] for r in gaze_results[:45]])
    assert np.all(np.abs(heads) < 20) and np.median(heads[:, 1]) < 0
    assert np.all(np.abs(gaze) < 15)
    assert all(r["on_target"] for r in gaze_results[:45])


def test_calibration_on_real_frames_sets_the_target(gaze_frames):
    with GazeAnalyzer("laptop") as analyzer:
        analyzer.start_calibration(1.0, "cal")
        out = [analyzer.analyze(f, seq=s, capture_time_ns=t) for f, t, s in gaze_frames[:45]]
    states = [r["calibration"]["state"] for r in out]
    assert states[0] == "running" and states[-1] == "done"
    target = out[-1]["target"]
    assert target["calibrated"] and target["pitch"] < 0  # the screen is below the webcam
    assert out[-1]["on_target"]


def test_combined_pose_and_gaze_crops_the_face_from_the_pose(gaze_frames):
    from analysis.combined import CombinedAnalyzer
    from analysis.session import PoseAnalyzer
    from analysis.sets import SetTracker, set_to_wire
    from analysis.worker import to_wire
    from formsync.wire.analysis import AnalysisIn
    from formsync.wire.sets import SetIn

    with CombinedAnalyzer(PoseAnalyzer("laptop"), GazeAnalyzer("laptop"), gaze_fps=0) as analyzer:
        out = [analyzer.analyze(f, seq=s, capture_time_ns=t) for f, t, s in gaze_frames[:15]]
        summary = analyzer.summary()
    assert all(r["pose_found"] for r in out)
    assert sum(r["gaze"]["face_found"] for r in out) >= 13
    assert all(r["gaze"]["skipped"] is None for r in out)
    body = {**to_wire(out[-1], []), "seq": 14, "capture_time_ns": 1, "processing_ms": 1.0}
    assert AnalysisIn.model_validate(body).gaze.face_found
    assert summary["gaze"]["frames"] == 15 and summary["gaze"]["attention_pct"] is not None
    # The set summary the worker sends carries the gaze part, and the hub accepts it.
    body = set_to_wire(SetTracker("laptop"), summary, status="open", end_reason=None, ended_at_ns=10**9,
                       reference=None)
    assert SetIn.model_validate(body).gaze.frames == 15


def test_no_person_skips_the_face_mesh(gaze_frames):
    class MustNotRun:
        def estimate(self, frame, box=None):
            raise AssertionError("the face mesh should be skipped")

    analyzer = GazeAnalyzer("x", estimator=MustNotRun())
    r = analyzer.analyze(gaze_frames[0][0], seq=0, capture_time_ns=0, person_found=False)
    assert r["skipped"] == "no_person" and not r["face_found"] and r["on_target"] is False


def test_cli_prints_per_frame_json():
    if not gaze_clip().exists():
        pytest.skip("shared footage not found")
    out = subprocess.run([sys.executable, "-m", "analysis", "gaze", str(gaze_clip()), "--json"],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    data = json.loads(out.stdout)
    assert data["fps"] == 30 and len(data["frames"]) == 295
    first = data["frames"][0]
    assert set(first) == {"seq", "time_s", "face_found", "skipped", "head", "eyes", "direction", "ear",
                          "eyes_closed", "blink", "on_target", "attention"}
    assert sum(f["face_found"] for f in data["frames"]) >= 280
    assert sum(s["frames"] for s in data["segments"]) == 295
    assert data["summary"]["frames"] == 295 and 0 <= data["summary"]["attention_pct"] <= 100


def test_attention_is_unknown_once_no_face_was_seen_in_the_whole_window(gaze_frames):
    """Looking away (no face for part of the window) lowers attention; a camera that has seen no
    face for a whole window (a profile view) reports no attention at all, not 0 %."""
    from analysis.gaze.analyzer import GazeSettings

    blank = np.zeros_like(gaze_frames[0][0])
    with GazeAnalyzer("laptop", GazeSettings(window_s=1.0)) as analyzer:
        seen = [analyzer.analyze(f, seq=s, capture_time_ns=t) for f, t, s in gaze_frames[:30]]
        t_end, seq = gaze_frames[29][1], gaze_frames[29][2]
        away = [analyzer.analyze(blank, seq=seq + k, capture_time_ns=t_end + k * 33_333_333)
                for k in range(1, 61)]
    assert seen[-1]["attention"] == 100.0
    assert not any(r["face_found"] for r in away)
    partly = away[14]  # 0.5 s after the face left: half the window still had it on target
    assert 0 < partly["attention"] < 100
    assert away[-1]["attention"] is None  # 2 s later: nothing in the 1 s window had a face
