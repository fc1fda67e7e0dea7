"""Eye-in-head gaze from the iris centre's position between each eye's corners and lids.

Per eye (pixel landmarks, ``face_model.EYES``):
    h = where the iris centre falls along the corner-to-corner axis, 0 at the image-left corner,
        1 at the image-right corner (0.5 = centred);
    v = where it falls between the lids along the perpendicular, 0 at the upper lid, 1 at the lower.
The eyeball is a sphere of radius r turning about its centre, so the iris centre moves r sin(angle)
off the eye's middle. With r = 12 mm (adult axial length about 24 mm: Bekerman et al., "Variations
in eyeball diameters of the healthy adults", J Ophthalmol 2014) and the corner-to-corner width
W = 30 mm (adult palpebral fissure length), r = 0.4 W, and in pixels
    yaw   = asin((h - 0.5) * W_px / r_px)                 > 0: iris towards the image's right
    pitch = asin((0.5 - v) * lid_gap_px / r_px)           > 0: iris towards the upper lid (looking up)
Working in the eye's own axes makes the ratios independent of head roll; head yaw foreshortens W_px
and the iris offset alike, so h keeps its meaning. The two eyes are averaged, weighted by their
width in pixels (a foreshortened eye is the less reliable). The fixed anatomy makes the gain only
approximate: the calibration step (``calibration``) absorbs the offset, not a gain error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analysis.gaze.face_model import EYES

EYEBALL_RADIUS_OVER_WIDTH = 12.0 / 30.0
"""Eyeball radius / corner-to-corner eye width (12 mm / 30 mm, module doc)."""


@dataclass(frozen=True)
class EyeReading:
    """One eye: ``h``/``v`` ratios (module doc, about 0..1), ``yaw``/``pitch`` in degrees and its
    corner-to-corner width in pixels."""

    h: float
    v: float
    yaw: float
    pitch: float
    width_px: float


def _asin_deg(x: float) -> float:
    return math.degrees(math.asin(max(-1.0, min(1.0, x))))


def read_eye(left_corner, right_corner, upper, lower, iris) -> EyeReading | None:
    """One eye from five pixel positions (x, y): its image-left and image-right corners, the upper
    and lower lid at mid-eye and the iris centre. None when the eye has no width or the lids touch."""
    a, b, up, lo, c = (np.asarray(p, np.float64)[:2] for p in (left_corner, right_corner, upper, lower, iris))
    axis = b - a
    width = float(np.hypot(*axis))
    if width < 1e-6:
        return None
    u = axis / width
    n = np.array([-u[1], u[0]])  # the eye's "down" for an upright face (image y grows downwards)
    gap = float((lo - up) @ n)
    if gap <= 1e-6:
        return None
    h = float((c - a) @ u) / width
    v = float((c - up) @ n) / gap
    r_px = EYEBALL_RADIUS_OVER_WIDTH * width
    return EyeReading(h, v, _asin_deg((h - 0.5) * width / r_px), _asin_deg((0.5 - v) * gap / r_px), width)


def read_eyes(landmarks_px: np.ndarray, open_eyes: dict[str, bool] | None = None) -> dict[str, EyeReading]:
    """Both eyes from Face Mesh landmarks (478, >=2) in pixels; ``open_eyes`` (by "right"/"left")
    leaves out eyes known to be closed. Eyes that cannot be read are left out."""
    out = {}
    for name, eye in EYES.items():
        if open_eyes is not None and not open_eyes.get(name, True):
            continue
        points = (landmarks_px[eye[k]] for k in ("left_corner", "right_corner", "upper", "lower", "iris"))
        reading = read_eye(*points)
        if reading is not None:
            out[name] = reading
    return out


def combine_eyes(readings: dict[str, EyeReading]) -> tuple[float, float] | None:
    """(yaw, pitch) in degrees: the eyes' readings averaged, weighted by eye width; None without any."""
    if not readings:
        return None
    w = np.array([r.width_px for r in readings.values()])
    yaw = float(np.average([r.yaw for r in readings.values()], weights=w))
    pitch = float(np.average([r.pitch for r in readings.values()], weights=w))
    return yaw, pitch
