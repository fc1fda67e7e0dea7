"""Head pose on synthetic landmark sets: the 3D face model rotated by known angles, projected
through the same pinhole camera, must be recovered within 3 degrees."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from analysis.gaze.face_model import MODEL_POINTS, POSE_INDICES
from analysis.gaze.head_pose import (
    angles_from_rotation,
    camera_matrix,
    direction_vector,
    project,
    rotation_from_angles,
    solve_head_pose,
)

CAMERA = camera_matrix(1280, 720)
GRID = list(itertools.product((-45, -20, 0, 15, 40), (-30, -10, 0, 20, 30), (-25, 0, 10)))


def synthetic(yaw, pitch, roll, tvec=(0.0, 0.0, 60.0), noise_px=0.0, seed=0):
    pts = project(MODEL_POINTS, rotation_from_angles(yaw, pitch, roll), np.array(tvec), CAMERA)
    return pts + np.random.default_rng(seed).normal(0, noise_px, pts.shape)


@pytest.mark.parametrize("yaw,pitch,roll", GRID)
def test_known_rotation_is_recovered_within_3_degrees(yaw, pitch, roll):
    # 0.5 px of landmark noise on a face ~170 px wide, off the optical axis.
    points = synthetic(yaw, pitch, roll, (8.0, -5.0, 55.0), noise_px=0.5, seed=abs(yaw * 100 + pitch))
    pose = solve_head_pose(points, CAMERA)
    assert pose is not None
    assert abs(pose.yaw - yaw) < 3 and abs(pose.pitch - pitch) < 3 and abs(pose.roll - roll) < 3, pose
    assert pose.tvec[2] == pytest.approx(55.0, rel=0.1)
    assert pose.reprojection_px < 2.0


def test_signs_follow_the_documented_convention():
    """Turned to the image's right, the nose tip lies right of the eye midpoint; looking up, above it."""
    nose, eyes = list(POSE_INDICES).index(1), [list(POSE_INDICES).index(i) for i in (33, 263)]
    right = synthetic(30, 0, 0)
    up = synthetic(0, 25, 0)
    level = synthetic(0, 0, 0)
    assert right[nose, 0] > right[eyes].mean(axis=0)[0] + 10
    assert up[nose, 1] - up[eyes].mean(axis=0)[1] < level[nose, 1] - level[eyes].mean(axis=0)[1] - 10
    ccw = synthetic(0, 0, 20)  # counter-clockwise: the subject's left eye (image right) rises
    assert ccw[eyes[1], 1] < ccw[eyes[0], 1] - 10


def test_angles_round_trip_and_forward_vector():
    rng = np.random.default_rng(1)
    for yaw, pitch, roll in rng.uniform((-170, -85, -170), (170, 85, 170), (200, 3)):
        r = rotation_from_angles(yaw, pitch, roll)
        assert np.allclose(r @ r.T, np.eye(3))
        assert np.allclose(angles_from_rotation(r), (yaw, pitch, roll), atol=1e-6)
        assert np.allclose(r[:, 2], direction_vector(yaw, pitch))


def test_mismatched_points_raise():
    with pytest.raises(ValueError):
        solve_head_pose(np.zeros((5, 2)), CAMERA)
    with pytest.raises(ValueError):
        solve_head_pose(np.zeros((3, 2)), CAMERA, MODEL_POINTS[:3])
