"""Form-fault checks on one completed rep.

Each check declares the camera views it can be trusted in (``views``): a check whose view is not
available is skipped, so the later multi-camera fusion can run each check on the camera that sees
it best. Each check measures one number on the rep (``measure``), compares it with a minor and a
major threshold, and returns a ``Fault`` (name, severity, one-line cue, measured value, threshold).

Checks, measures and thresholds (all measured on MediaPipe landmarks, so they carry its noise;
thresholds include a tolerance for it):
    depth_not_reached (side, oblique): at the deepest frame, how far the hip is above the knee,
        as the thigh's angle above horizontal, asin((knee_y - hip_y) / |hip - knee|) in world
        coordinates. Parallel = 0. Minor > 15 deg, major > 30 deg. Source: "thighs at least
        parallel to the floor" (NSCA Essentials of Strength Training, back squat technique); the
        15 deg tolerance covers MediaPipe's hip landmark sitting above the hip joint centre.
    knees_caving (front): at the deepest frame, knee separation / ankle separation (horizontal, image).
        Minor < 0.90, major < 0.75. Source: normalised knee separation as a dynamic valgus screen
        (Noyes et al., Am J Sports Med 2005;33(2):197-207); knees should track over the feet.
    forward_lean (side): at the deepest frame, trunk lean minus shin lean (both from vertical, in
        the image plane). Minor > 25 deg, major > 35 deg. Source: NASM overhead-squat assessment,
        "excessive forward lean" = torso no longer parallel to the tibia. The 25 deg tolerance is
        ours: on the eye-checked side-view reps in ../shared/data/squat the difference is 6-21 deg
        (bodyweight squats with arms forward lean more), and none shows a lean a coach would call.
        Image angles are used because in a side view the sagittal plane is the image plane, while
        MediaPipe's world z (needed for 3-D angles) is a learnt guess; hence side view only.
    heels_rising (side): largest rise during the rep of the foot's pitch (heel above toe tip, in
        the image plane) over its value on the rep's first frame. Minor > 15 deg, major > 25 deg.
        Source: NASM overhead-squat assessment compensation "feet: heels rise"; the tolerance covers
        MediaPipe's heel/toe jitter (up to 14 deg on the flat-footed side-view reps in our footage).
        In a front or oblique view the foot is foreshortened and the pitch is not measurable.
    asymmetry (front): at the deepest frame, |left knee angle - right knee angle| (world).
        Minor > 15 deg, major > 25 deg. Source: bilateral asymmetry above ~15 % is commonly treated
        as relevant (Impellizzeri et al., Med Sci Sports Exerc 2007;39(11):2044-50); 15 deg is ~15 %
        of a 100 deg knee range.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

from analysis.angles import angle_to_vertical
from analysis.features import FrameFeatures
from analysis.landmarks import LM
from analysis.view import FRONT, OBLIQUE, SIDE

MINOR, MAJOR = "minor", "major"


@dataclass(frozen=True)
class Fault:
    """A detected fault. value/threshold share ``unit``; rep is the 1-based rep number (0 if unknown)."""

    name: str
    severity: str
    cue: str
    value: float
    threshold: float
    unit: str
    view: str
    rep: int = 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["value"] = round(self.value, 2)
        return d


@dataclass(frozen=True)
class RepWindow:
    """The frames of one rep (start to end, in order) and the index of its deepest frame in them."""

    frames: Sequence[FrameFeatures]
    bottom: int

    @property
    def bottom_frame(self) -> FrameFeatures:
        return self.frames[self.bottom]


@dataclass(frozen=True)
class FaultCheck:
    """One fault check: ``measure(rep) -> float`` (NaN = cannot tell), fault when the value is
    beyond ``minor`` (``major`` for severity major) in the direction given by ``higher_is_worse``."""

    name: str
    views: frozenset[str]
    minor: float
    major: float
    higher_is_worse: bool
    unit: str
    cue: str
    measure: callable

    def applies_to(self, view: str | None) -> bool:
        return view in self.views

    def grade(self, value: float) -> str | None:
        """``None``, ``"minor"`` or ``"major"`` for a measured value."""
        if not np.isfinite(value):
            return None
        beyond = (lambda t: value > t) if self.higher_is_worse else (lambda t: value < t)
        if beyond(self.major):
            return MAJOR
        if beyond(self.minor):
            return MINOR
        return None

    def check(self, rep: RepWindow, view: str | None, rep_number: int = 0) -> Fault | None:
        """The fault found on ``rep`` seen from ``view``, or None (also None if the view does not apply)."""
        if not self.applies_to(view):
            return None
        value = float(self.measure(rep))
        severity = self.grade(value)
        if severity is None:
            return None
        threshold = self.major if severity == MAJOR else self.minor
        return Fault(self.name, severity, self.cue, value, threshold, self.unit, view, rep_number)


def _mid(w: np.ndarray, a: LM, b: LM) -> np.ndarray:
    return (w[a] + w[b]) / 2


def thigh_above_parallel_deg(world: np.ndarray) -> float:
    """Mean over both legs of asin((knee_y - hip_y) / |hip - knee|) in degrees: 0 = thigh parallel
    to the floor, positive = hip above knee, 90 = standing. Input (33, >=3) world, y down."""
    w = np.asarray(world, np.float64)
    out = []
    for hip, knee in ((LM.LEFT_HIP, LM.LEFT_KNEE), (LM.RIGHT_HIP, LM.RIGHT_KNEE)):
        v = w[knee, :3] - w[hip, :3]
        n = np.linalg.norm(v)
        if n > 0:
            out.append(np.degrees(np.arcsin(np.clip(v[1] / n, -1, 1))))
    return float(np.mean(out)) if out else float("nan")


def knee_ankle_separation_ratio(image_xy: np.ndarray) -> float:
    """|x_Lknee - x_Rknee| / |x_Lankle - x_Rankle| from (33, 2) image points; NaN if ankles coincide."""
    p = np.asarray(image_xy, np.float64)
    ankles = abs(p[LM.LEFT_ANKLE, 0] - p[LM.RIGHT_ANKLE, 0])
    if ankles <= 1e-9:
        return float("nan")
    return float(abs(p[LM.LEFT_KNEE, 0] - p[LM.RIGHT_KNEE, 0]) / ankles)


def trunk_minus_shin_lean_deg(points: np.ndarray) -> float:
    """Trunk lean minus shin lean from vertical, in degrees (both legs' shins averaged).

    Input (33, D): D = 2 image points (what the check uses) or D >= 3 world landmarks."""
    w = np.asarray(points, np.float64)
    w = w[:, :3] if w.shape[1] >= 3 else w
    trunk = angle_to_vertical(_mid(w, LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER) - _mid(w, LM.LEFT_HIP, LM.RIGHT_HIP))
    shins = [angle_to_vertical(w[k] - w[a]) for k, a in
             ((LM.LEFT_KNEE, LM.LEFT_ANKLE), (LM.RIGHT_KNEE, LM.RIGHT_ANKLE))]
    return float(trunk - np.nanmean(shins))


def foot_pitch_deg(image_xy: np.ndarray) -> float:
    """Mean over both feet of the heel's elevation above the toe tip in the image plane, degrees:
    atan2(y_toe - y_heel, |x_heel - x_toe|) (y down, so heel up > 0). Input (33, 2) image points."""
    p = np.asarray(image_xy, np.float64)
    out = []
    for heel, toe in ((LM.LEFT_HEEL, LM.LEFT_FOOT_INDEX), (LM.RIGHT_HEEL, LM.RIGHT_FOOT_INDEX)):
        v = p[heel, :2] - p[toe, :2]
        if np.any(v != 0):
            out.append(np.degrees(np.arctan2(-v[1], abs(v[0]))))
    return float(np.mean(out)) if out else float("nan")


def _depth(rep: RepWindow) -> float:
    return thigh_above_parallel_deg(rep.bottom_frame.world)


def _valgus(rep: RepWindow) -> float:
    return knee_ankle_separation_ratio(rep.bottom_frame.image_xy)


def _lean(rep: RepWindow) -> float:
    return trunk_minus_shin_lean_deg(rep.bottom_frame.image_xy)


def _heels(rep: RepWindow) -> float:
    pitches = np.array([foot_pitch_deg(f.image_xy) for f in rep.frames])
    if not np.isfinite(pitches).any():
        return float("nan")
    return float(np.nanmax(pitches) - pitches[np.isfinite(pitches)][0])


def _asymmetry(rep: RepWindow) -> float:
    a = rep.bottom_frame.angles
    return float(abs(a[0] - a[1]))


CHECKS: tuple[FaultCheck, ...] = (
    FaultCheck("depth_not_reached", frozenset({SIDE, OBLIQUE}), 15.0, 30.0, True, "deg",
               "Sit deeper: bring your hips down to knee height.", _depth),
    FaultCheck("knees_caving", frozenset({FRONT}), 0.90, 0.75, False, "ratio",
               "Push your knees out over your toes.", _valgus),
    FaultCheck("forward_lean", frozenset({SIDE}), 25.0, 35.0, True, "deg",
               "Keep your chest up: torso parallel to your shins.", _lean),
    FaultCheck("heels_rising", frozenset({SIDE}), 15.0, 25.0, True, "deg",
               "Keep your heels down: weight through mid-foot.", _heels),
    FaultCheck("asymmetry", frozenset({FRONT}), 15.0, 25.0, True, "deg",
               "Even out: bend both knees the same amount.", _asymmetry),
)
"""All checks, in the order they are reported."""


def check_rep(rep: RepWindow, view: str | None, rep_number: int = 0,
              checks: Sequence[FaultCheck] = CHECKS) -> list[Fault]:
    """Run every check that applies to ``view`` on ``rep``; returns the faults found (maybe empty)."""
    found = []
    for c in checks:
        f = c.check(rep, view, rep_number)
        if f is not None:
            found.append(f)
    return found
