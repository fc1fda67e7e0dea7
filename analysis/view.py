"""Camera view (front / side / oblique) estimated from image landmarks.

Measure: the body's apparent width over its apparent torso length,
    ratio = mean(|x_Lshoulder - x_Rshoulder|, |x_Lhip - x_Rhip|) / |shoulder_mid - hip_mid|
in isotropic image units. Facing the camera (or back to it) the ratio is ~0.45-0.9; it shrinks with
the cosine of the body's yaw and is ~0.05-0.25 in profile. A rear view reads as a front view: the
checks that trust a front view measure left-right separations, which read the same from behind.
Thresholds: ratio < SIDE_MAX_RATIO (0.20) -> side, ratio > FRONT_MIN_RATIO (0.40) -> front,
otherwise oblique. A rep is classified on its upright frames (``measures.RepSeries.facing``): a
forward fold foreshortens the trunk and inflates the ratio of the frames at depth. Chosen on the
dev split of the labelled clips (``analysis/evaluation``), per counted rep against the clip's
labelled view: upright ratios of front reps 0.36-0.63, oblique 0.15-0.60 (95th percentile 0.42),
side 0.03-0.26; the pair (0.18-0.20, 0.39-0.41) classifies 80 % of the dev reps as labelled, the
best of all pairs. The labels themselves are coarse (a phone at 60 deg is "side" in one source
and "oblique" in another), so a check that needs a square camera gates on the ratio itself
(``faults.FRONTAL_MIN_FACING``) rather than on the view's name.
Image landmarks are used rather than world yaw because MediaPipe's world z is a learnt guess: it
put a true side view (rohanx01) at only 69 deg of yaw.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from analysis.landmarks import LM

FRONT, SIDE, OBLIQUE = "front", "side", "oblique"
VIEWS = (FRONT, SIDE, OBLIQUE)
SIDE_MAX_RATIO = 0.20
FRONT_MIN_RATIO = 0.40


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
