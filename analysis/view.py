"""Camera view (front / side / oblique) estimated from image landmarks.

Measure: the body's apparent width over its apparent torso length,
    ratio = mean(|x_Lshoulder - x_Rshoulder|, |x_Lhip - x_Rhip|) / |shoulder_mid - hip_mid|
in isotropic image units. Facing the camera (or back to it) the ratio is ~0.5-0.6 (measured on
the front-view clips in ../shared/data/squat: 0.50-0.60); it shrinks with the cosine of the body's
yaw and is ~0-0.15 in profile (side clips: 0.03-0.15; the 3/4 clip: 0.27).
Thresholds: ratio < 0.20 -> side (yaw beyond ~70 deg), ratio > 0.42 -> front (yaw within ~40 deg),
otherwise oblique. Image landmarks are used rather than world yaw because MediaPipe's world z is a
learnt guess and put a true side view (rohanx01) at only 69 deg of yaw.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from analysis.landmarks import LM

FRONT, SIDE, OBLIQUE = "front", "side", "oblique"
VIEWS = (FRONT, SIDE, OBLIQUE)
SIDE_MAX_RATIO = 0.20
FRONT_MIN_RATIO = 0.42


def width_ratio(image_xy: np.ndarray) -> float:
    """Apparent body width over torso length (see module doc) from (33, 2) isotropic image points.

    Returns NaN for a zero-length torso.
    """
    p = np.asarray(image_xy, np.float64)
    width = (abs(p[LM.LEFT_SHOULDER, 0] - p[LM.RIGHT_SHOULDER, 0]) + abs(p[LM.LEFT_HIP, 0] - p[LM.RIGHT_HIP, 0])) / 2
    torso = np.linalg.norm((p[LM.LEFT_SHOULDER] + p[LM.RIGHT_SHOULDER]) / 2 - (p[LM.LEFT_HIP] + p[LM.RIGHT_HIP]) / 2)
    return float(width / torso) if torso > 0 else float("nan")


def classify_ratio(ratio: float) -> str:
    """``"side"``, ``"front"`` or ``"oblique"`` for a width ratio (thresholds in the module doc)."""
    if ratio < SIDE_MAX_RATIO:
        return SIDE
    if ratio > FRONT_MIN_RATIO:
        return FRONT
    return OBLIQUE


def estimate_view(image_xy: np.ndarray) -> str:
    """View of one pose given (33, 2) isotropic image points (``PoseFrame.image_xy()``)."""
    return classify_ratio(width_ratio(image_xy))


class ViewTracker:
    """Running view estimate: median width ratio over the last ``window`` poses (default 30, ~1 s),
    so one bad frame does not flip the view that fault checks depend on."""

    def __init__(self, window: int = 30) -> None:
        self._ratios: deque[float] = deque(maxlen=window)

    def update(self, image_xy: np.ndarray) -> str:
        r = width_ratio(image_xy)
        if np.isfinite(r):
            self._ratios.append(r)
        return self.view

    @property
    def view(self) -> str | None:
        """Current view, or None before the first valid pose."""
        if not self._ratios:
            return None
        return classify_ratio(float(np.median(self._ratios)))
