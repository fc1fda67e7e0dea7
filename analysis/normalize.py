"""Pose normalisation: make two poses comparable whoever, wherever and whichever way they face.

``normalize_pose`` maps (33, 4) world landmarks (metres) to a canonical (33, 3) frame:
    1. hip-centred: origin at the midpoint of the two hip landmarks;
    2. scaled by torso length (hip midpoint to shoulder midpoint), so a tall and a short lifter give
       the same numbers (torso length is used because it barely changes during a squat, unlike the
       bent legs);
    3. facing handled: rotated about the vertical (y) axis so the body's left-right axis (the mean
       of the hip and shoulder axes, right -> left) points along +x. A person facing the other way
       is turned round, which is the 3-D equivalent of mirroring a side-view image; left stays left.
The yaw estimate needs the left/right axis to have some horizontal extent; MediaPipe's world
landmarks always give it (their z is a learnt estimate even in a pure side view).
"""

from __future__ import annotations

import numpy as np

from analysis.landmarks import LM

MIN_TORSO = 1e-6
"""Torso lengths (metres) below this are treated as a failed detection."""


def torso_length(points: np.ndarray) -> float:
    """Distance between hip midpoint and shoulder midpoint, in the units of ``points`` (33, >=3)."""
    p = np.asarray(points, np.float64)[:, :3]
    hip = (p[LM.LEFT_HIP] + p[LM.RIGHT_HIP]) / 2
    sh = (p[LM.LEFT_SHOULDER] + p[LM.RIGHT_SHOULDER]) / 2
    return float(np.linalg.norm(sh - hip))


def body_yaw_deg(points: np.ndarray) -> float:
    """Yaw of the body's right->left axis about the vertical, in degrees (-180..180].

    0 means the left-right axis points along +x (person squarely facing or back-to the camera;
    MediaPipe world x grows to the image right), +-90 a pure profile. Input: (33, >=3) world
    landmarks.
    """
    p = np.asarray(points, np.float64)[:, :3]
    axis = (p[LM.LEFT_HIP] - p[LM.RIGHT_HIP]) + (p[LM.LEFT_SHOULDER] - p[LM.RIGHT_SHOULDER])
    return float(np.degrees(np.arctan2(axis[2], axis[0])))


def rotate_y(points: np.ndarray, deg: float) -> np.ndarray:
    """Rotate (N, 3) points about the y axis by ``deg`` degrees (x towards z positive)."""
    r = np.radians(deg)
    c, s = np.cos(r), np.sin(r)
    rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    return np.asarray(points, np.float64) @ rot.T


def normalize_pose(points: np.ndarray) -> np.ndarray:
    """Canonical (33, 3) pose from (33, >=3) world landmarks; see the module docstring.

    Raises:
        ValueError: wrong shape, or a degenerate pose (torso length below ``MIN_TORSO``).
    """
    p = np.asarray(points, np.float64)
    if p.ndim != 2 or p.shape[0] != 33 or p.shape[1] < 3:
        raise ValueError(f"expected (33, >=3) landmarks, got {p.shape}")
    xyz = p[:, :3]
    hip = (xyz[LM.LEFT_HIP] + xyz[LM.RIGHT_HIP]) / 2
    scale = torso_length(xyz)
    if not np.isfinite(scale) or scale < MIN_TORSO:
        raise ValueError("degenerate pose: torso length is zero")
    centred = (xyz - hip) / scale
    # Undo the yaw: rotating by +yaw brings the right->left axis (at angle yaw from +x toward +z)
    # back onto +x.
    return rotate_y(centred, body_yaw_deg(xyz))
