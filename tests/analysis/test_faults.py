"""Each fault check on synthetic poses with known geometry, on both sides of its thresholds, and
judged over the whole rep: the moments it reports, the deep part it reads, views it skips."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.faults import CHECKS, FRONTAL_MIN_FACING, MAJOR, MINOR, RepWindow, check_rep
from analysis.measures import rep_series, upright_frames
from analysis.view import FRONT, OBLIQUE, SIDE
from tests.analysis.synthetic import LEG, frame, world_pose

CHECK = {c.name: c for c in CHECKS}
FPS = 30


SHOULDERS = 0.17
"""Shoulder half-width of the figures here: a real athlete's shoulders are wider than the hip
landmarks, which puts a square front view above ``FRONTAL_MIN_FACING``."""


def rep_of(view: str, poses: list[dict]) -> RepWindow:
    """A rep whose frames have the given geometries, 1/30 s apart; the bottom is the deepest frame."""
    frames = [frame(world_pose(**{"shoulder_half_width": SHOULDERS, **g}), view, i) for i, g in enumerate(poses)]
    frames = [type(f)(**{**f.__dict__, "capture_time_ns": int(i * 1e9 / FPS)}) for i, f in enumerate(frames)]
    knees = [f.knee for f in frames]
    return RepWindow(frames, int(np.argmin(knees)))


def standing(**extra) -> dict:
    return dict(thigh_above_parallel=90, **extra)


def graded(name: str, rep: RepWindow, view: str):
    fault = CHECK[name].check(rep, view, rep_number=1)
    return None if fault is None else fault.severity


def test_synthetic_geometry_is_what_it_says():
    f = frame(world_pose(thigh_above_parallel=0, shin_lean=(30, 50)))
    # knee angle = 90 + thigh above parallel - shin lean for this stick figure
    assert f.angles[0] == pytest.approx(60) and f.angles[1] == pytest.approx(40)
    s = rep_of(FRONT, [standing(), dict(thigh_above_parallel=0, shin_lean=(30, 30), knee_half_width=0.17)]).series()
    assert s.knee_shoulder_ratio[1] == pytest.approx(1.0)
    assert s.facing >= FRONTAL_MIN_FACING


@pytest.mark.parametrize("knee, expected", [(70, None), (82, None), (84, MINOR), (105, MINOR), (107, MAJOR)])
def test_depth_not_reached(knee, expected):
    bottom = dict(thigh_above_parallel=knee - 60, shin_lean=(30, 30))
    rep = rep_of(SIDE, [standing(), bottom, bottom, bottom, standing()])
    assert graded("depth_not_reached", rep, SIDE) == expected


def test_one_stray_frame_does_not_make_a_rep_deep():
    half = dict(thigh_above_parallel=45, shin_lean=(30, 30))  # knee 105 deg
    stray = dict(thigh_above_parallel=0, shin_lean=(30, 30))  # knee 60 deg, one frame
    rep = rep_of(SIDE, [standing(), half, half, stray, half, half, standing()])
    assert graded("depth_not_reached", rep, SIDE) == MINOR


@pytest.mark.parametrize("spread, expected",
                         [(1.5, None), (1.13, None), (1.11, MINOR), (1.0, MINOR), (0.98, MAJOR)])
def test_knees_caving_reads_the_knees_spread_since_standing(spread, expected):
    # Standing, the knees are over the ankles (0.2 m out); at depth they are ``spread`` times as far apart.
    bottom = dict(thigh_above_parallel=0, shin_lean=(20, 20), ankle_half_width=0.2, knee_half_width=0.2 * spread)
    rep = rep_of(FRONT, [standing(ankle_half_width=0.2), bottom, standing(ankle_half_width=0.2)])
    assert graded("knees_caving", rep, FRONT) == expected


def test_knee_tracking_is_relative_to_the_athletes_own_stance():
    """A wide stance puts the knees far outside the shoulders: knees that come in from there still
    cave, and knees that spread from a narrow stance do not."""
    def rep(stance: float, knees_at_depth: float) -> RepWindow:
        deep = dict(thigh_above_parallel=0, shin_lean=(20, 20), ankle_half_width=stance, knee_half_width=knees_at_depth)
        return rep_of(FRONT, [standing(ankle_half_width=stance), deep])

    wide_caving, narrow_tracking = rep(0.35, 0.30), rep(0.10, 0.13)
    assert wide_caving.series().knee_shoulder_ratio[1] > 1.7 > narrow_tracking.series().knee_shoulder_ratio[1]
    assert graded("knees_caving", wide_caving, FRONT) == MAJOR
    assert graded("knees_caving", narrow_tracking, FRONT) is None


@pytest.mark.parametrize("trunk, expected", [(40, None), (46, None), (48, MINOR), (54, MINOR), (56, MAJOR)])
def test_forward_lean(trunk, expected):
    bottom = dict(thigh_above_parallel=0, shin_lean=(30, 30), trunk_lean=trunk)
    assert graded("forward_lean", rep_of(SIDE, [standing(), bottom]), SIDE) == expected


def heel_lift(percent_of_leg: float) -> float:
    return percent_of_leg / 100 * LEG


@pytest.mark.parametrize("rise, expected", [(0, None), (3.5, None), (3.9, MINOR), (7.4, MINOR), (7.8, MAJOR)])
def test_heels_rising(rise, expected):
    bottom = dict(thigh_above_parallel=0, shin_lean=(30, 30), heel_lift=heel_lift(rise))
    assert graded("heels_rising", rep_of(SIDE, [standing(), bottom]), SIDE) == expected


@pytest.mark.parametrize("view, expected", [(SIDE, MINOR), (OBLIQUE, MAJOR), (FRONT, None)])
def test_heel_thresholds_follow_the_view(view, expected):
    """The same heel rise (5 % of the leg) against each view's thresholds: the front view, where the
    foot hides the heel and clean dev reps spread widest, asks for more."""
    rep = rep_of(view, [standing(), dict(thigh_above_parallel=0, shin_lean=(30, 30), heel_lift=heel_lift(5.0))])
    assert rep.series().heel_rise[1] == pytest.approx(5.0)
    fault = CHECK["heels_rising"].check(rep, view)
    assert (None if fault is None else fault.severity) == expected
    if fault is not None:
        minor, major = CHECK["heels_rising"].thresholds(view)
        assert fault.threshold == (major if expected == MAJOR else minor) and fault.unit == "% leg"


def test_a_foot_sliding_in_the_frame_is_no_heel_rise():
    """The heel and the toe both move up the frame (a foot landmark dragged by the trunk folding over
    the thighs, or a camera tilting): the heel did not rise over the toe, so it is not up."""
    poses = [standing(), dict(thigh_above_parallel=0, shin_lean=(30, 30))]
    rep = rep_of(SIDE, poses)
    moved = [type(f)(**{**f.__dict__, "image_xy": f.image_xy - ([0.0, 0.05] if i else 0.0)})
             for i, f in enumerate(rep.frames)]
    assert graded("heels_rising", RepWindow(moved, rep.bottom), SIDE) is None
    lifted = [type(f)(**{**f.__dict__, "image_xy": f.image_xy.copy()}) for f in moved]
    lifted[1].image_xy[[29, 30], 1] -= 0.05  # now the heels rise over the toes too
    assert graded("heels_rising", RepWindow(lifted, rep.bottom), SIDE) == MAJOR


def test_the_standing_baseline_is_the_upright_end_of_the_rep():
    """A rep whose first frames are already on the way down (the counter's filter lags the descent):
    the baseline is the frames closest to standing, at either end."""
    flexion = np.array([40.0, 60, 90, 120, 90, 60, 30, 10, 12])
    assert upright_frames(flexion).tolist() == [False] * 6 + [True] * 3
    assert upright_frames(np.full(4, np.nan)).tolist() == [True, False, False, False]


@pytest.mark.parametrize("shift, expected", [(0.0, None), (0.10, None), (0.115, MINOR), (0.2, MINOR), (0.23, MAJOR)])
def test_asymmetry(shift, expected):
    # ankles 0.24 m apart: the shift over the ankle separation is shift / 0.24
    bottom = dict(thigh_above_parallel=0, shin_lean=(30, 30), hip_shift=shift)
    assert graded("asymmetry", rep_of(FRONT, [standing(), bottom]), FRONT) == expected


def descent_and_ascent(n: int = 15) -> list[float]:
    """Thigh angles of one rep: standing (90) down to parallel (0) and back, n frames."""
    return list(90 * np.abs(np.cos(np.linspace(0, np.pi, n))))


def test_caving_on_the_way_down_and_up_is_caught_though_the_bottom_looks_clean():
    thighs = descent_and_ascent()
    bottom = int(np.argmin(thighs))
    poses = [dict(thigh_above_parallel=t, shin_lean=(30 * (1 - t / 90),) * 2, ankle_half_width=0.2,
                  knee_half_width=0.26 if i == bottom else 0.2 if t > 60 else 0.12) for i, t in enumerate(thighs)]
    rep = rep_of(FRONT, poses)
    check = CHECK["knees_caving"]
    assert check.summarise(rep.series())[1][bottom] > check.minor  # the bottom alone reads clean
    fault = check.check(rep, FRONT, rep_number=2)
    assert fault is not None and fault.rep == 2
    phases = {m.phase for m in fault.moments}
    assert phases == {"descent", "ascent"}
    for m in fault.moments:
        assert m.start_seq <= m.peak_seq <= m.end_seq and m.start_time_ns <= m.end_time_ns
        assert not m.start_seq <= bottom <= m.end_seq


def test_a_jittery_heel_and_a_long_hold_do_not_raise_the_heels():
    thighs = descent_and_ascent(11)
    bottom = int(np.argmin(thighs))
    thighs = thighs[:bottom] + [0.0] * 60 + thighs[bottom + 1:]  # two seconds at the bottom
    poses = [dict(thigh_above_parallel=t, shin_lean=(30 * (1 - t / 90),) * 2) for t in thighs]
    poses[bottom + 10]["heel_lift"] = 0.15  # one frame of a heel landmark gone astray
    assert graded("heels_rising", rep_of(SIDE, poses), SIDE) is None
    for g in poses[bottom:bottom + 60]:
        g["heel_lift"] = heel_lift(10)  # heels up through the hold
    assert graded("heels_rising", rep_of(SIDE, poses), SIDE) == MAJOR


def test_checks_declare_views_and_skip_others():
    bad = dict(thigh_above_parallel=45, shin_lean=(10, 40), trunk_lean=80, knee_half_width=0.05, heel_lift=0.15)
    for check in CHECKS:
        assert check.views and set(check.views) <= {FRONT, SIDE, OBLIQUE}
        assert set(check.views.values()) <= {"high", "low"}
        for view in {FRONT, SIDE, OBLIQUE} - set(check.views):
            assert check.check(rep_of(view, [standing(), bad]), view) is None
    assert set(CHECK["knees_caving"].views) == {FRONT}
    assert CHECK["forward_lean"].views[SIDE] == "high" and CHECK["forward_lean"].views[FRONT] == "low"


def test_frontal_checks_need_the_camera_square():
    caving = dict(thigh_above_parallel=0, shin_lean=(20, 20), ankle_half_width=0.2, knee_half_width=0.05)
    square = rep_of(FRONT, [standing(), caving])
    narrow = rep_of(FRONT, [standing(shoulder_half_width=0.1), dict(caving, shoulder_half_width=0.1)])
    assert square.series().facing >= FRONTAL_MIN_FACING > narrow.series().facing
    assert graded("knees_caving", square, FRONT) == MAJOR
    assert graded("knees_caving", narrow, FRONT) is None


def test_check_rep_reports_name_severity_cue_confidence_and_moments():
    rep = rep_of(SIDE, [standing(), dict(thigh_above_parallel=40, shin_lean=(30, 30), trunk_lean=80)])
    faults = check_rep(rep, SIDE, rep_number=3)
    assert {"depth_not_reached", "forward_lean"} <= {f.name for f in faults}
    for f in faults:
        assert f.severity in (MINOR, MAJOR) and f.cue and f.rep == 3 and f.view == SIDE and f.confidence == "high"
        d = f.to_dict()
        assert set(d) >= {"name", "severity", "cue", "value", "threshold", "confidence", "moments"}
        assert d["moments"] and d["moments"][0]["peak_seq"] == 1
    low = check_rep(rep_of(FRONT, [standing(), dict(thigh_above_parallel=0, shin_lean=(30, 30), trunk_lean=80)]), FRONT)
    assert [f.confidence for f in low if f.name == "forward_lean"] == ["low"]
    good = rep_of(SIDE, [standing(), dict(thigh_above_parallel=-5, shin_lean=(30, 30), trunk_lean=35)])
    assert check_rep(good, SIDE) == []


def test_reference_value_is_the_reference_rep_measured_the_same_way():
    ref = rep_of(SIDE, [standing(), dict(thigh_above_parallel=0, shin_lean=(30, 30), trunk_lean=30)])
    user = rep_of(SIDE, [standing(), dict(thigh_above_parallel=0, shin_lean=(30, 30), trunk_lean=70)])
    fault = CHECK["forward_lean"].check(user, SIDE, reference=ref.series())
    assert fault.value == pytest.approx(70) and fault.reference_value == pytest.approx(30)
    assert rep_series(ref.frames).trunk_lean[1] == pytest.approx(30)
