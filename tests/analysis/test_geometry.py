"""Angles, normalisation, view estimation and frame similarity on synthetic poses."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.angles import angle_at, joint_angles
from analysis.normalize import normalize_pose, rotate_y
from analysis.scoring import angle_part, frame_similarity, pose_cosine
from analysis.view import FRONT, OBLIQUE, SIDE, estimate_view
from tests.analysis.synthetic import frame, world_pose


def test_angle_at_right_angle_and_degenerate():
    assert angle_at([1, 0], [0, 0], [0, 1]) == pytest.approx(90)
    assert np.isnan(angle_at([0, 0], [0, 0], [0, 1]))


def test_standing_angles():
    a = joint_angles(world_pose(thigh_above_parallel=90))
    assert a["knee_left"] == pytest.approx(180) and a["hip_left"] == pytest.approx(180)
    assert a["trunk_lean"] == pytest.approx(0)


def test_normalisation_removes_position_scale_and_facing():
    w = world_pose(thigh_above_parallel=20, shin_lean=(30, 30), trunk_lean=40)
    moved = w.copy()
    moved[:, :3] = rotate_y(w[:, :3] * 1.7 + [0.3, -0.2, 1.0], 137.0)
    assert np.allclose(normalize_pose(w), normalize_pose(moved), atol=1e-9)
    with pytest.raises(ValueError):
        normalize_pose(np.zeros((33, 4)))


@pytest.mark.parametrize("yaw, view", [(0, FRONT), (20, FRONT), (55, OBLIQUE), (85, SIDE), (180, FRONT)])
def test_view_from_yaw(yaw, view):
    w = world_pose(thigh_above_parallel=90)
    w[:, :3] = rotate_y(w[:, :3], yaw)
    assert estimate_view(frame(w, "front").image_xy) == view


def test_similarity_is_100_for_identical_and_falls_with_depth_difference():
    ref = frame(world_pose(thigh_above_parallel=0, shin_lean=(30, 30), trunk_lean=35))
    scores = []
    for thigh in (0, 20, 45, 90):
        f = frame(world_pose(thigh_above_parallel=thigh, shin_lean=(30 * (1 - thigh / 90),) * 2,
                             trunk_lean=35 * (1 - thigh / 90)))
        scores.append(frame_similarity(f.norm, ref.norm, f.visibility, ref.visibility, f.features, ref.features))
    assert scores[0] == pytest.approx(100)
    assert scores == sorted(scores, reverse=True) and scores[-1] < 40


def test_invisible_keypoints_are_ignored():
    a = frame(world_pose(thigh_above_parallel=0, shin_lean=(30, 30)))
    b_world = world_pose(thigh_above_parallel=0, shin_lean=(30, 30))
    b_world[[25, 27], :3] += 5.0  # left knee and ankle way off ...
    b = frame(b_world)
    vis = b.visibility.copy()
    vis[[25, 27, 29, 31]] = 0.1  # ... but invisible, as are the left foot points
    assert pose_cosine(a.norm, b.norm, a.visibility, vis) == pytest.approx(1.0)
    assert pose_cosine(a.norm, b.norm, a.visibility, b.visibility) < 0.99
    assert np.isnan(pose_cosine(a.norm, b.norm, np.zeros(33), vis))


def test_angle_part_bounds():
    assert angle_part([90, 90, 90, 10], [90, 90, 90, 10]) == 100
    assert angle_part([90, 90, 90, 10], [180, 180, 180, 100]) == 0
    assert 0 < angle_part([90, 90, 90, 10], [100, 100, 100, 20]) < 100
