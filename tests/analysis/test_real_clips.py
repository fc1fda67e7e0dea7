"""Real MediaPipe on the real clips in ../shared/data/squat: the reference library (self-score,
shallow reps, views, storage, pictures), result serialisation and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from analysis.faults import RepWindow
from analysis.paths import DEFAULT_REFERENCE_CLIP, REPO_ROOT, squat_dir
from analysis.session import PoseAnalyzer
from tests.analysis.conftest import NoInference, reference_from_poses, replay


def analyzed(clip_poses, file, reference=None) -> PoseAnalyzer:
    fps, poses = clip_poses(file)
    analyzer = PoseAnalyzer(file, reference=reference, estimator=NoInference(), history_frames=None)
    replay(analyzer, fps, poses)
    return analyzer


def test_reference_scored_against_itself(clip_poses, default_reference):
    """The reference video, re-analysed, is >= 98 similar to itself on every model rep."""
    analyzer = analyzed(clip_poses, DEFAULT_REFERENCE_CLIP, default_reference)
    similarity = [r.score.similarity for r in analyzer.reports]
    assert len(similarity) == len(default_reference.reps) == 2
    assert [similarity[k] for k in default_reference.model_reps] == pytest.approx([100, 100], abs=2)
    assert {r.score.reference for r in analyzer.reports} == {"default"}


def test_shallower_rep_of_a_reference_is_not_a_model_rep(clip_poses):
    """intellifit1's second rep stops ~0.07 leg lengths higher than its first: users are not scored
    against it, and against the first it scores lower than the first itself."""
    ref = reference_from_poses("intellifit", "cached", *clip_poses("side_bodyweight_intellifit1.mp4"))
    assert ref.model_reps == [0]
    scores = [ref.score(ref.window(k)).similarity for k in (0, 1)]
    assert scores[1] < scores[0] - 2, scores


def test_default_references_cover_every_view(references):
    assert {v: r.view for v, r in references.by_view.items()} == {"side": "side", "front": "front",
                                                                   "oblique": "oblique"}
    assert references.for_view("front").name == "default-front"
    assert references.for_view("side") is references.chosen
    assert references.for_view(None) is references.chosen


def shallow(window: RepWindow, keep: float = 0.7) -> RepWindow:
    """The same rep cut off before the bottom: only the frames within the top (1 - keep) of its
    depth range are kept (keep=0.7: a quarter squat). The default reference itself only gets down
    to ~0.64 leg lengths, so half-depth cuts of deeper reps come close to it by design."""
    h = np.array([f.hip_height for f in window.frames])
    cut = h.min() + keep * (h[0] - h.min())
    frames = [f for f, hh in zip(window.frames, h) if hh >= cut]
    return RepWindow(frames, int(np.argmin([f.hip_height for f in frames])))


@pytest.mark.parametrize("file", ["oblique_bodyweight_intellifit2.mp4", "side_barbell_rohanx01.mp4"])
def test_good_reps_beat_the_same_reps_made_shallow(clip_poses, default_reference, file):
    analyzer = analyzed(clip_poses, file)
    assert analyzer.counter.reps
    for rep in analyzer.counter.reps:
        window = analyzer.rep_frames(rep)
        good = default_reference.score(window).score
        cut = default_reference.score(shallow(window)).score
        assert good > cut + 3, (rep.index, good, cut)


def test_result_to_dict_is_json(clip_poses, references):
    fps, poses = clip_poses("workouttracker_squat_18.mp4")
    analyzer = PoseAnalyzer("cam-front", reference=references, estimator=NoInference())
    results = replay(analyzer, fps, poses)
    with_rep = [r for r in results if r.rep is not None]
    assert len(with_rep) == 1
    d = json.loads(json.dumps(with_rep[0].to_dict()))
    assert d["camera_id"] == "cam-front" and d["rep_count"] == 1
    assert np.array(d["landmarks"]).shape == (33, 4) and np.array(d["world_landmarks"]).shape == (33, 4)
    assert set(d["angles"]) >= {"knee_left", "hip_right", "ankle_left", "trunk_lean"}
    assert 0 <= d["score"] <= 100 and d["rep"]["score"] is not None
    assert d["reference"] == d["rep"]["reference"] == "default-front"
    assert set(d["rep"]["criteria"]) >= {"depth_not_reached", "forward_lean"}
    assert d["capture_time_ns"] == int(round(d["seq"] * 1e9 / fps))
    assert all(r.processing_ms >= 0 for r in results)


def test_reference_library_round_trip(reference_library, default_reference, clip_poses):
    assert "default" in reference_library.names()
    again = reference_from_poses("again", "cached", *clip_poses(DEFAULT_REFERENCE_CLIP))
    assert [r.to_dict() for r in default_reference.reps] == [r.to_dict() for r in again.reps]
    arrays = np.load(reference_library.path("default") / "arrays.npz")
    assert arrays["angles"].shape == (len(default_reference.frames), 7)
    assert arrays["landmarks"].shape == (len(default_reference.frames), 33, 4)
    with pytest.raises(FileNotFoundError):
        reference_library.load("missing")


def test_saving_over_a_reference_leaves_whole_files_only(tmp_path, clip_poses):
    ref = reference_from_poses("again", "cached", *clip_poses(DEFAULT_REFERENCE_CLIP))
    ref.save(tmp_path)
    ref.save(tmp_path)  # a rebuild replaces the files in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arrays.npz", "reference.json"]
    loaded = type(ref).load(tmp_path)
    assert len(loaded.frames) == len(ref.frames) and len(loaded.reps) == len(ref.reps)


def test_a_reference_keeps_its_content_hash_from_build_to_bundle_to_the_worker(reference_library):
    """The hash is the SHA-256 of the per-frame data: the same whether read from the library, from
    a bundle, or rebuilt from the data the hub serves, and carried by every score."""
    import hashlib

    from analysis.reference import Reference
    from formsync.reference_bundle import pack_folder, unpack

    ref = reference_library.load("default")
    data = (reference_library.path("default") / "arrays.npz").read_bytes()
    assert ref.content_hash == hashlib.sha256(data).hexdigest()
    bundle = unpack(pack_folder(reference_library.path("default")))
    assert bundle.content_hash == ref.content_hash and bundle.data == ref.data()
    served = Reference.from_data(bundle.content, bundle.data)
    assert served.content_hash == ref.content_hash and served.name == "default"
    assert [f.index for f in served.frames] == [f.index for f in ref.frames]
    score = served.score(served.window(0))
    assert score.reference == "default" and score.reference_hash == ref.content_hash


def test_cli_reps_json(reference_library):
    """The offline CLI runs real pose on a real clip through ``PoseAnalyzer.process``."""
    env = {**os.environ, "FORMSYNC_REFERENCE_DIR": str(reference_library.root)}
    out = subprocess.run(
        [sys.executable, "-m", "analysis", "reps", str(squat_dir() / "workouttracker_squat_18.mp4"), "--json"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    data = json.loads(out.stdout)
    assert data["reps"] == 1 and len(data["reps_detail"]) == 1
    assert isinstance(data["faults"], list)
    assert data["reps_detail"][0]["score"] > 0


def test_analyze_runs_real_pose_on_real_frames(default_reference):
    """``analyze`` (the worker's entry point) runs MediaPipe on real frames and returns plain dicts."""
    from analysis.video import frames

    with PoseAnalyzer("cam-side", reference=default_reference) as analyzer:
        out = [analyzer.analyze(f, seq=s, capture_time_ns=t)
               for f, t, s in frames(squat_dir() / "side_barbell_rohanx01.mp4") if s < 10]
    assert [d["seq"] for d in out] == list(range(10))
    assert all(d["pose_found"] for d in out)
    json.dumps(out)


def test_reference_keeps_a_picture_of_every_frame_and_reports_progress(tmp_path):
    from analysis.reference import THUMB_HEIGHT, ReferenceLibrary

    lib = ReferenceLibrary(tmp_path)
    seen: list[tuple[int, int]] = []
    ref = lib.build(squat_dir() / DEFAULT_REFERENCE_CLIP, "mine", on_progress=lambda d, t: seen.append((d, t)))
    assert ref.view == "side"
    total = seen[-1][1]
    assert [d for d, _ in seen] == list(range(1, total + 1)) and total >= len(ref.frames)
    for seq in (0, ref.reps[0].bottom, total - 1):
        jpeg = (lib.path("mine") / "frames" / f"{seq}.jpg").read_bytes()
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape[0] == THUMB_HEIGHT
    assert len(list((lib.path("mine") / "frames").glob("*.jpg"))) == total
    # Built again, the same poses and pictures make the same data: the content hash stays.
    assert lib.build(squat_dir() / DEFAULT_REFERENCE_CLIP, "mine").content_hash == ref.content_hash


def test_reference_without_a_rep_is_refused_and_leaves_nothing(tmp_path, clip_poses):
    from analysis.reference import NoRepFound, ReferenceLibrary

    short = tmp_path / "standing.mp4"
    cap = cv2.VideoCapture(str(squat_dir() / "workouttracker_squat_11.mp4"))
    ok, frame = cap.read()
    h, w = frame.shape[:2]
    out = cv2.VideoWriter(str(short), cv2.VideoWriter_fourcc(*"mp4v"), 30, (w, h))
    for _ in range(15):  # half a second of someone standing still: no rep
        ok, frame = cap.read()
        out.write(frame)
    out.release()
    cap.release()
    lib = ReferenceLibrary(tmp_path / "lib")
    with pytest.raises(NoRepFound, match="no complete rep"):
        lib.build(short, "standing")
    assert lib.names() == [] and not lib.path("standing").exists()
    assert list(lib.root.iterdir()) == []  # nothing half-built left behind


def test_reps_after_the_cameras_seq_numbers_start_over_are_made_of_their_own_frames(clip_poses):
    # A restarted camera client numbers its frames from 0 again while frames of the same numbers
    # from before are still kept: a rep must be made of the frames it was seen in.
    fps, poses = clip_poses("side_bodyweight_intellifit1.mp4")
    analyzer = PoseAnalyzer("side", estimator=NoInference())
    period_ns = int(1e9 / fps)
    for seq, pose in enumerate(poses):
        analyzer.update(pose, seq, seq * period_ns)
    before = [(r.end_time_ns - r.start_time_ns, r.rep.end - r.rep.start) for r in analyzer.reports]
    analyzer.start_new_set(reset_motion=True)  # what the worker does as the replay starts over
    restart_ns = (len(poses) + 30) * period_ns
    for seq, pose in enumerate(poses):
        analyzer.update(pose, seq, restart_ns + seq * period_ns)
    assert len(before) == len(analyzer.reports) == 2
    assert all(r.start_time_ns >= restart_ns for r in analyzer.reports)
    assert [(r.end_time_ns - r.start_time_ns, r.rep.end - r.rep.start) for r in analyzer.reports] == before
