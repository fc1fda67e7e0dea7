"""Coaching verdicts on real labelled clips (../shared/data/squat/labelled), real MediaPipe poses:
each fault fires on clips whose source labels it and stays quiet on clean clips, scores follow form
rather than the camera, and faulty reps score clearly below clean ones.

The clips and what they show are in ``analysis/evaluation/annotations.json``; the thresholds were
chosen on its dev split by ``python -m analysis.evaluation.calibrate`` (``analysis/faults.py``), not
for these tests. Clips of the test split appear here only where a check's verdict on them holds.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.evaluation.dataset import clip
from analysis.session import PoseAnalyzer
from tests.analysis.conftest import replay


class NoInference:
    def estimate(self, frame):
        raise AssertionError("these tests replay cached poses")


def reports(clip_poses, references, name: str):
    fps, poses = clip_poses(clip(name).file)
    analyzer = PoseAnalyzer(name, reference=references, estimator=NoInference(), history_frames=None)
    replay(analyzer, fps, poses)
    assert analyzer.counter.count == clip(name).reps, "rep count off: the verdicts below would not be per rep"
    return analyzer.reports


def flagged(reps, fault: str) -> int:
    return sum(any(f.name == fault for f in r.faults) for r in reps)


@pytest.mark.parametrize("name, fault", [
    ("fitai_incorrect_2", "knees_caving"),       # knees cave in, front view
    ("fitai_incorrect_2", "forward_lean"),       # ... with the trunk folding forward
    ("fitai_incorrect_4", "forward_lean"),       # oblique view
    ("posture_000", "forward_lean"),             # 12 fps phone, chest dropping on all 15 reps
    ("posture_001", "heels_rising"),             # heels off the floor at every bottom, oblique view
    ("posture_024", "heels_rising"),             # ... front view, where the foot hides the heel
    ("posture_demo_knee_ahead", "heels_rising"),
    ("posture_004", "depth_not_reached"),        # half squats
    ("posture_006", "depth_not_reached"),        # quarter squats
])
def test_labelled_fault_is_flagged_on_most_reps(clip_poses, references, name, fault):
    """On most of the clip's reps: the per-rep recall of each check is the evaluation's figure."""
    assert fault in clip(name).faults
    reps = reports(clip_poses, references, name)
    assert flagged(reps, fault) > len(reps) / 2, [[f.name for f in r.faults] for r in reps]


@pytest.mark.parametrize("name", ["fitai_correct_2", "fitai_correct_4", "fitai_correct_7", "fitai_correct_8",
                                  "eti_good", "posture_010", "posture_demo_correct"])
def test_clean_clip_raises_no_fault(clip_poses, references, name):
    assert clip(name).rep_class == "clean"
    reps = reports(clip_poses, references, name)
    assert [[f.name for f in r.faults] for r in reps] == [[] for _ in reps]


@pytest.mark.parametrize("name", ["posture_000", "posture_002", "posture_007", "fitai_incorrect_4"])
def test_a_trunk_folding_over_the_thighs_raises_no_heel(clip_poses, references, name):
    """Forward-lean clips filmed from the front or at an angle, heels down: the foot-pitch reading
    this check used before flagged two of posture_007's reps."""
    assert clip(name).truth("forward_lean") and clip(name).truth("heels_rising") is False
    reps = reports(clip_poses, references, name)
    assert flagged(reps, "forward_lean") > len(reps) / 2
    assert flagged(reps, "heels_rising") == 0, [[f.name for f in r.faults] for r in reps]


@pytest.mark.xfail(strict=True, reason="known miss (README, Accuracy): in MediaPipe's landmarks this "
                   "wide-stance rep's knees spread 1.42 x as far apart as standing, as far as clean reps")
def test_knees_caving_from_a_wide_stance(clip_poses, references):
    (rep,) = reports(clip_poses, references, "fitai_incorrect_3")
    assert "knees_caving" in {f.name for f in rep.faults}


def test_faults_point_at_the_moment_they_happened(clip_poses, references):
    (rep,) = reports(clip_poses, references, "fitai_incorrect_2")
    for fault in rep.faults:
        assert fault.moments, fault.name
        for m in fault.moments:
            assert rep.start_time_ns <= m.start_time_ns <= m.end_time_ns <= rep.end_time_ns
            assert m.phase in ("descent", "bottom", "ascent")
    caving = next(f for f in rep.faults if f.name == "knees_caving")
    assert caving.confidence == "high" and caving.view == "front"


def mean_score(reps) -> float:
    return float(np.mean([r.score.score for r in reps]))


def test_a_correct_squat_scores_alike_from_front_side_and_oblique(clip_poses, references):
    by_view = {}
    for name in ("fitai_correct_4", "fitai_correct_7", "posture_demo_correct"):
        reps = reports(clip_poses, references, name)
        by_view[clip(name).view] = mean_score(reps)
    assert set(by_view) == {"front", "side", "oblique"}
    assert max(by_view.values()) - min(by_view.values()) <= 8, by_view
    assert min(by_view.values()) >= 85, by_view


def test_each_view_is_scored_against_the_reference_of_its_view(clip_poses, references):
    for name, default in (("fitai_correct_4", "default-front"), ("fitai_correct_7", "default"),
                          ("posture_demo_correct", "default-oblique")):
        assert {r.score.reference for r in reports(clip_poses, references, name)} == {default}


def test_faulty_reps_score_clearly_below_clean_reps_of_the_same_person(clip_poses, references):
    # The same man in the same room: a correct set and a set with knees caving and the trunk folding.
    clean = mean_score(reports(clip_poses, references, "fitai_correct_2"))
    faulty = mean_score(reports(clip_poses, references, "fitai_incorrect_2"))
    assert clean - faulty >= 15, (clean, faulty)


def test_score_falls_with_each_fault_it_carries(clip_poses, references):
    for rep in reports(clip_poses, references, "posture_000"):
        flagged_names = {f.name for f in rep.faults}
        for name, term in rep.criteria.items():
            assert (term < 1.0) == (name in flagged_names), (rep.rep.index, name, term)
        assert rep.score.score < 90
