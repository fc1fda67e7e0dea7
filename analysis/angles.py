"""Joint angles of a squat, in degrees, from a (33, 4) landmark array.

Conventions (all angles in degrees):
    knee  = angle hip-knee-ankle, 180 = leg straight, ~60-90 in a deep squat.
    hip   = angle shoulder-hip-knee, 180 = standing tall, ~50-80 at the bottom of a deep squat.
    ankle = angle knee-ankle-foot_index, ~100-120 standing, smaller as the shin tilts forward
            (dorsiflexion).
    trunk_lean = angle between the trunk (hip midpoint -> shoulder midpoint) and straight up,
            0 = upright, 90 = horizontal.
These are the three-point joint angles used by most pose-based squat checkers (e.g. the
LearnOpenCV "AI Fitness Trainer" squat analysis and the NASM squat assessment's knee/hip/trunk
angles); the absolute numbers differ slightly from goniometer angles because MediaPipe's hip
landmark sits on the greater trochanter, not on the joint centre.

Inputs are MediaPipe world landmarks (metres, y down) so angles do not depend on the camera's
distance, or image landmarks already converted to isotropic units (``PoseFrame.image_xy``).
"""

from __future__ import annotations

import numpy as np

from analysis.landmarks import LM

ANGLE_NAMES: tuple[str, ...] = (
    "knee_left", "knee_right", "hip_left", "hip_right", "ankle_left", "ankle_right", "trunk_lean",
)
"""Order of the angle vector returned by ``angle_vector`` (7 values)."""

UP = np.array([0.0, -1.0, 0.0])
"""Straight up in MediaPipe coordinates (image and world y grow downwards)."""


def angle_at(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Angle ABC at vertex ``b`` in degrees (0..180), for points of shape (..., 2) or (..., 3).

    A zero-length arm yields NaN rather than raising, so one collapsed joint does not stop a stream.
    """
    ba = np.asarray(a, np.float64) - b
    bc = np.asarray(c, np.float64) - b
    num = np.sum(ba * bc, axis=-1)
    den = np.linalg.norm(ba, axis=-1) * np.linalg.norm(bc, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def angle_to_vertical(vec: np.ndarray) -> np.ndarray:
    """Angle in degrees (0..180) between vectors (..., 2|3) and straight up; NaN for a zero vector."""
    vec = np.asarray(vec, np.float64)
    up = UP[: vec.shape[-1]]
    norm = np.linalg.norm(vec, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(norm > 0, np.sum(vec * up, axis=-1) / np.where(norm > 0, norm, 1.0), np.nan)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def joint_angles(points: np.ndarray) -> dict[str, float]:
    """Knee, hip and ankle angles per side plus trunk lean, as ``{name: degrees}`` (see module doc).

    Args:
        points: (33, D) with D >= 2; the first 2 or 3 columns are used as coordinates (a 4th column,
            visibility, is ignored). Pass world landmarks for 3-D angles.
    Raises:
        ValueError: if ``points`` does not have 33 rows.
    """
    return dict(zip(ANGLE_NAMES, angle_vector(points).tolist()))


def angle_vector(points: np.ndarray) -> np.ndarray:
    """Same angles as ``joint_angles`` as a float64 vector of shape (7,) in ``ANGLE_NAMES`` order.

    Also accepts a stack (T, 33, D) and returns (T, 7).
    """
    pts = np.asarray(points, np.float64)
    if pts.shape[-2] != 33:
        raise ValueError(f"expected (..., 33, D) landmarks, got {pts.shape}")
    dims = 3 if pts.shape[-1] >= 3 else 2
    p = pts[..., :dims]
    out = []
    for s in ("LEFT", "RIGHT"):
        out.append(angle_at(p[..., LM[f"{s}_HIP"], :], p[..., LM[f"{s}_KNEE"], :], p[..., LM[f"{s}_ANKLE"], :]))
    for s in ("LEFT", "RIGHT"):
        out.append(angle_at(p[..., LM[f"{s}_SHOULDER"], :], p[..., LM[f"{s}_HIP"], :], p[..., LM[f"{s}_KNEE"], :]))
    for s in ("LEFT", "RIGHT"):
        out.append(angle_at(p[..., LM[f"{s}_KNEE"], :], p[..., LM[f"{s}_ANKLE"], :],
                            p[..., LM[f"{s}_FOOT_INDEX"], :]))
    hip_mid = (p[..., LM.LEFT_HIP, :] + p[..., LM.RIGHT_HIP, :]) / 2
    sh_mid = (p[..., LM.LEFT_SHOULDER, :] + p[..., LM.RIGHT_SHOULDER, :]) / 2
    out.append(angle_to_vertical(sh_mid - hip_mid))
    return np.stack(out, axis=-1)
