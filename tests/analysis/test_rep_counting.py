"""Rep counts on real footage through real MediaPipe, on the cases that break naive counters: 12 fps
phone recordings, quarter squats, people walking out of frame, barbells, a rear view in a power
rack, a camera that cuts off the head and shoulders, and slow reps with long holds at the bottom.
The last two are real clips transformed the way such a camera or lifter would (a crop of the top
of the frame; the bottom frame repeated for seconds), run through ``PoseAnalyzer.process`` frame
by frame."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.evaluation.dataset import clip, clips_in
from analysis.paths import squat_dir
from analysis.session import PoseAnalyzer
from analysis.video import frames, probe
from tests.analysis.conftest import replay


class NoInference:
    def estimate(self, frame):
        raise AssertionError("these tests replay cached poses")


def counted(clip_poses, file: str) -> int:
    fps, poses = clip_poses(file)
    analyzer = PoseAnalyzer(file, estimator=NoInference(), history_frames=None)
    replay(analyzer, fps, poses)
    return analyzer.counter.count


RE_RACK = "front_barbell_gymvision.mp4"
"""Walking the bar back to the rack bends the knees and drops the hips like a quarter squat."""


@pytest.mark.parametrize("labelled", [c for c in clips_in() if "/" not in c.file], ids=lambda c: c.name)
def test_rep_count_of_the_rep_labelled_clips(clip_poses, labelled):
    if labelled.file == RE_RACK:
        pytest.xfail("the re-rack step after the set is counted as a fourth, quarter-depth rep")
    assert counted(clip_poses, labelled.file) == labelled.reps


@pytest.mark.parametrize("name", [
    "posture_000",   # 12 fps phone, 15 shallow reps with the chest dropping
    "posture_004",   # 12 fps, 15 fast half squats
    "posture_006",   # quarter squats, then walks to the camera and out of frame
    "posture_020",   # 12 fps side view, 15 quarter squats, walks out at the end
    "aron_good_2",   # 8 reps in 14 s
])
def test_rep_count_on_phone_recordings_and_shallow_sets(clip_poses, name):
    assert counted(clip_poses, clip(name).file) == clip(name).reps


def test_rear_view_in_a_power_rack(clip_poses):
    """WorkoutTracker's squat_8 is filmed from behind a lifter in a power rack (bar on the back, the
    rack's uprights beside him): one rep, from the source's marker at frame 18 (its onset). squat_7
    is the same kind of shot starting at the bottom: the rise out of it is no rep."""
    for name, reps, marker in (("workouttracker_squat_8", 1, 18), ("workouttracker_squat_7", 0, None)):
        assert clip(name).view == "rear"
        fps, poses = clip_poses(clip(name).file)
        assert sum(p is not None for p in poses) >= 0.9 * len(poses)  # the lifter is tracked throughout
        analyzer = PoseAnalyzer(name, estimator=NoInference(), history_frames=None)
        replay(analyzer, fps, poses)
        assert analyzer.counter.count == reps, name
        if marker is not None:
            (rep,) = analyzer.counter.reps
            assert rep.start - 5 <= marker <= rep.bottom
        # From behind, left and right read as from the front (``analysis.view``).
        assert all(r.view == "front" for r in analyzer.reports)


def run_frames(images, fps: float) -> PoseAnalyzer:
    analyzer = PoseAnalyzer("transformed", history_frames=None)
    for seq, image in enumerate(images):
        analyzer.process(image, int(round(seq * 1e9 / fps)), seq)
    analyzer.close()
    return analyzer


@pytest.mark.parametrize("name", ["fitai_correct_4", "fitai_correct_5"])
def test_head_and_shoulders_out_of_frame(name):
    """The top 40 % of the frame cut off: standing, the frame shows the athlete from the navel down."""
    path = squat_dir() / clip(name).file
    images = [f[int(0.4 * f.shape[0]):] for f, _, _ in frames(path)]
    analyzer = run_frames(images, probe(path).fps)
    assert analyzer.counter.count == clip(name).reps


def test_slow_reps_with_long_holds_at_the_bottom():
    """Each bottom held for 3 s (the deepest frame repeated), as a slow tempo squat would."""
    path = squat_dir() / clip("fitai_correct_7").file
    fps = probe(path).fps
    from analysis.pose_cache import clip_poses as cached
    from analysis.session import DEFAULT_MAX_WIDTH

    poses = cached(path, DEFAULT_MAX_WIDTH).poses
    knees = np.array([np.nan if p is None else _knee(p) for p in poses])
    bottoms = _local_minima(knees, int(fps))
    images = []
    for i, (f, _, _) in enumerate(frames(path)):
        images.append(f)
        if i in bottoms:
            images.extend([f] * int(3 * fps))
    analyzer = run_frames(images, fps)
    assert analyzer.counter.count == clip("fitai_correct_7").reps
    assert [f.name for r in analyzer.reports for f in r.faults] == []  # a long hold raises no heel
    assert all((r.end_time_ns - r.start_time_ns) / 1e9 > 3 for r in analyzer.reports)


def _knee(pose) -> float:
    from analysis.features import FrameFeatures

    return FrameFeatures.from_pose(pose, 0, 0).knee


def _local_minima(x: np.ndarray, spacing: int) -> set[int]:
    """Indices of the deepest frame of each dip below 120 deg, at least ``spacing`` frames apart."""
    from scipy.signal import find_peaks

    peaks, _ = find_peaks(-np.nan_to_num(x, nan=180.0), height=-120, distance=spacing)
    return set(int(p) for p in peaks)
