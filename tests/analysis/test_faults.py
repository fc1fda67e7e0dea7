"""Each fault check on synthetic poses with known geometry, on both sides of its thresholds."""

from __future__ import annotations

import pytest

from analysis.faults import CHECKS, MAJOR, MINOR, RepWindow, check_rep, thigh_above_parallel_deg
from analysis.view import FRONT, OBLIQUE, SIDE
from tests.analysis.synthetic import frame, world_pose

CHECK = {c.name: c for c in CHECKS}


def one_frame_rep(view: str, **geometry) -> RepWindow:
    return RepWindow([frame(world_pose(**geometry), view)], 0)


def graded(name: str, rep: RepWindow, view: str):
    fault = CHECK[name].check(rep, view, rep_number=1)
    return None if fault is None else fault.severity


def test_synthetic_geometry_is_what_it_says():
    assert thigh_above_parallel_deg(world_pose(thigh_above_parallel=20)) == pytest.approx(20)
    f = frame(world_pose(thigh_above_parallel=0, shin_lean=(30, 50)))
    # knee angle = 90 - (shin lean - thigh above parallel) for this stick figure
    assert f.angles[0] == pytest.approx(60) and f.angles[1] == pytest.approx(40)


@pytest.mark.parametrize("thigh, expected", [(5, None), (14, None), (16, MINOR), (29, MINOR), (31, MAJOR)])
def test_depth_not_reached(thigh, expected):
    rep = one_frame_rep(SIDE, thigh_above_parallel=thigh, shin_lean=(30, 30))
    assert graded("depth_not_reached", rep, SIDE) == expected


@pytest.mark.parametrize("ratio, expected", [(1.2, None), (0.92, None), (0.88, MINOR), (0.77, MINOR), (0.7, MAJOR)])
def test_knees_caving(ratio, expected):
    rep = one_frame_rep(FRONT, thigh_above_parallel=0, shin_lean=(20, 20), ankle_half_width=0.15, knee_half_width=0.15 * ratio)
    assert graded("knees_caving", rep, FRONT) == expected


@pytest.mark.parametrize("trunk, expected", [(40, None), (54, None), (56, MINOR), (64, MINOR), (66, MAJOR)])
def test_forward_lean(trunk, expected):
    rep = one_frame_rep(SIDE, thigh_above_parallel=0, shin_lean=(30, 30), trunk_lean=trunk)
    assert graded("forward_lean", rep, SIDE) == expected


@pytest.mark.parametrize("pitch, expected", [(0, None), (14, None), (16, MINOR), (24, MINOR), (26, MAJOR)])
def test_heels_rising(pitch, expected):
    flat = frame(world_pose(thigh_above_parallel=90), SIDE, 0)
    bottom = frame(world_pose(thigh_above_parallel=0, shin_lean=(30, 30), heel_pitch=pitch), SIDE, 1)
    assert graded("heels_rising", RepWindow([flat, bottom], 1), SIDE) == expected


@pytest.mark.parametrize("diff, expected", [(0, None), (14, None), (16, MINOR), (24, MINOR), (26, MAJOR)])
def test_asymmetry(diff, expected):
    rep = one_frame_rep(FRONT, thigh_above_parallel=0, shin_lean=(30, 30 + diff))
    assert graded("asymmetry", rep, FRONT) == expected


def test_checks_declare_views_and_skip_others():
    bad = dict(thigh_above_parallel=45, shin_lean=(10, 40), trunk_lean=80, knee_half_width=0.05, heel_pitch=40)
    for check in CHECKS:
        assert check.views and check.views <= {FRONT, SIDE, OBLIQUE}
        for view in {FRONT, SIDE, OBLIQUE} - check.views:
            assert check.check(one_frame_rep(view, **bad), view) is None
    assert CHECK["knees_caving"].views == {FRONT}
    assert CHECK["forward_lean"].views == {SIDE}


def test_check_rep_reports_name_severity_cue():
    rep = one_frame_rep(SIDE, thigh_above_parallel=40, shin_lean=(30, 30), trunk_lean=80)
    faults = check_rep(rep, SIDE, rep_number=3)
    names = {f.name for f in faults}
    assert {"depth_not_reached", "forward_lean"} <= names
    for f in faults:
        assert f.severity in (MINOR, MAJOR) and f.cue and f.rep == 3 and f.view == SIDE
        assert set(f.to_dict()) >= {"name", "severity", "cue", "value", "threshold"}
    good = one_frame_rep(SIDE, thigh_above_parallel=-5, shin_lean=(30, 30), trunk_lean=35)
    assert check_rep(good, SIDE) == []
