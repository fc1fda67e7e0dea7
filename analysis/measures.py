"""Form measures of one rep, frame by frame, and the part of the rep each is judged on.

A rep is judged over its whole movement, not one frame: every measure is a series with one value
per analysed frame of the rep (``RepSeries``), and a check summarises it over the *deep part* of
the rep, the frames whose knee flexion is at least ``DEEP_FRACTION`` of the rep's peak flexion,
on the way down and on the way up. Comparing frames at matched knee flexion is what makes a
slow and a fast rep, or a long hold at the bottom, comparable.

The athlete's own standing posture is the *baseline* of the measures that depend on stance, build
or camera (knee tracking, heel height, weight shift): the rep's frames within the lowest
``UPRIGHT_FRACTION`` of its knee flexion range (``RepSeries.baseline``), at either end of the rep.
Why not the rep's first fraction of a second: a rep starts where the counter's filtered knee angle
leaves the top (``reps``), 0.3 s of median filter after the raw descent began, so on the dev split
the first 0.2 s of a rep already sat at 32-71 deg of knee flexion (median over each rep); its
upright frames sit at 14-41 deg, as close to standing as the rep gets.

Measures (per frame, degrees unless stated):
    knee            mean 3-D knee angle (hip-knee-ankle, world), 180 = straight.
    hip_height      hip midpoint above the ankle midpoint over leg length (``features.hip_height``).
    trunk_lean      angle of the trunk (hip midpoint -> shoulder midpoint, world) from vertical.
    knee_shoulder_ratio  horizontal distance between the knees over that between the shoulders
                    (image). The knee check reads it against the athlete's own standing value
                    (``faults``): the shoulders keep their width through a squat, so the ratio of
                    the two is how far the knees spread since the athlete stood on the same stance,
                    with the shoulders as the ruler that cancels the camera's distance. Knee
                    separation is the frontal-plane valgus screen of Noyes, Barber-Westin et al.
                    ("The drop-jump screening test", Am J Sports Med 2005;33(2):197-207), who
                    normalise it by the hip separation; the knee separation alone also reflects
                    the stance width (Sigward et al., J Athl Train 2011;46(5):471-475), which the
                    standing value takes out. The shoulders stand in for the hips because
                    MediaPipe's hip landmarks drift when the trunk folds over the thighs
                    (``faults``: the dev figures of every scale tried).
    width_ratio     apparent body width over torso length (``view.width_ratio``): how squarely
                    the camera faces the athlete.
    heel_rise       how far the heels rose since standing, in percent of the athlete's standing
                    leg length in the image (hip-knee plus knee-ankle, mean of both legs, over the
                    baseline), mean of both feet: the smaller of the heel's rise over the toe tip
                    (y_toe - y_heel, minus its standing value) and the heel's rise in the image
                    (standing y_heel - y_heel), y down. A heel that lifts does both; a foot
                    landmark that slides when the trunk folds over the thighs, or a camera that
                    tilts, rarely does both, and a vertical rise is not foreshortened by the
                    camera's yaw the way the foot's pitch is (``faults``: dev figures). ~0 with the
                    heels down.
    hip_shift       horizontal offset of the hip midpoint from the ankle midpoint over the ankle
                    separation (image), absolute: a lateral weight shift.
    knee_gap        |left - right| 3-D knee angle.
World measures come from MediaPipe's world landmarks (metres, hip-centred, y down): their depth is a
learnt estimate, which is why each check states the views it trusts (``faults``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.angles import angle_to_vertical
from analysis.features import FrameFeatures
from analysis.landmarks import LM
from analysis.view import width_ratio

DEEP_FRACTION = 0.5
"""Frames with at least half the rep's peak knee flexion form its deep part (the deepest half)."""
UPRIGHT_FRACTION = 0.25
"""Frames within the lowest quarter of a rep's knee flexion range (from its least to its peak
flexion) are its standing baseline (module doc): 1-12 frames of each dev rep at 12-30 fps, well
clear of the deep part (at least half the peak flexion)."""
UPRIGHT_KNEE = 140.0
"""Knee angle (deg) above which a frame of a rep counts as upright for reading the camera's view."""


def _mid(p: np.ndarray, a: LM, b: LM) -> np.ndarray:
    return (p[..., a, :] + p[..., b, :]) / 2


def trunk_lean(world: np.ndarray) -> np.ndarray:
    """(T, 33, >=3) world landmarks -> (T,) trunk angle from vertical, degrees (0 = upright)."""
    w = np.asarray(world, np.float64)[..., :3]
    return angle_to_vertical(_mid(w, LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER) - _mid(w, LM.LEFT_HIP, LM.RIGHT_HIP))


def knee_shoulder_ratio(image_xy: np.ndarray) -> np.ndarray:
    """(T, 33, 2) isotropic image points -> (T,) |x_Lknee - x_Rknee| / |x_Lshoulder - x_Rshoulder|
    (NaN where the shoulders coincide)."""
    p = np.asarray(image_xy, np.float64)
    knees = np.abs(p[..., LM.LEFT_KNEE, 0] - p[..., LM.RIGHT_KNEE, 0])
    shoulders = np.abs(p[..., LM.LEFT_SHOULDER, 0] - p[..., LM.RIGHT_SHOULDER, 0])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(shoulders > 1e-6, knees / np.where(shoulders > 1e-6, shoulders, 1.0), np.nan)


def image_leg_length(image_xy: np.ndarray) -> np.ndarray:
    """(T, 33, 2) isotropic image points -> (T,) hip-knee plus knee-ankle distance, mean of both
    legs, in image heights."""
    p = np.asarray(image_xy, np.float64)
    seg = lambda a, b: np.linalg.norm(p[..., a, :] - p[..., b, :], axis=-1)
    return (seg(LM.LEFT_HIP, LM.LEFT_KNEE) + seg(LM.LEFT_KNEE, LM.LEFT_ANKLE)
            + seg(LM.RIGHT_HIP, LM.RIGHT_KNEE) + seg(LM.RIGHT_KNEE, LM.RIGHT_ANKLE)) / 2


def heel_rise(image_xy: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """(T, 33, 2) isotropic image points (y down) and a (T,) bool mask of the standing frames ->
    (T,) heel rise since standing, percent of the standing image leg length (module doc). NaN
    throughout without a finite baseline."""
    p = np.asarray(image_xy, np.float64)
    heel_y = (p[..., LM.LEFT_HEEL, 1] + p[..., LM.RIGHT_HEEL, 1]) / 2
    toe_y = (p[..., LM.LEFT_FOOT_INDEX, 1] + p[..., LM.RIGHT_FOOT_INDEX, 1]) / 2
    over_toe = toe_y - heel_y
    height = -heel_y
    base = np.asarray(baseline, bool)
    leg = _nanmedian(image_leg_length(p)[base])
    if not leg > 0:
        return np.full(len(p), np.nan)
    rise = np.minimum(over_toe - _nanmedian(over_toe[base]), height - _nanmedian(height[base]))
    return 100.0 * rise / leg


def _nanmedian(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")


def hip_shift(image_xy: np.ndarray) -> np.ndarray:
    """(T, 33, 2) isotropic image points -> (T,) |hip midpoint x - ankle midpoint x| over the ankle
    separation (NaN where the ankles coincide)."""
    p = np.asarray(image_xy, np.float64)
    ankles = np.abs(p[..., LM.LEFT_ANKLE, 0] - p[..., LM.RIGHT_ANKLE, 0])
    off = np.abs(_mid(p, LM.LEFT_HIP, LM.RIGHT_HIP)[..., 0] - _mid(p, LM.LEFT_ANKLE, LM.RIGHT_ANKLE)[..., 0])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ankles > 1e-6, off / np.where(ankles > 1e-6, ankles, 1.0), np.nan)


@dataclass(frozen=True)
class RepSeries:
    """The measures of one rep's T frames (see module doc), aligned with ``seq`` and ``time_ns``.

    bottom: index of the deepest frame; deep: (T,) bool mask of the deep part; baseline: (T,) bool
    mask of the standing frames (module doc, at least one frame); ``phase_at``: "descent" before
    the bottom, "ascent" after.
    """

    seq: np.ndarray
    time_ns: np.ndarray
    knee: np.ndarray
    hip_height: np.ndarray
    trunk_lean: np.ndarray
    knee_shoulder_ratio: np.ndarray
    width_ratio: np.ndarray
    heel_rise: np.ndarray
    hip_shift: np.ndarray
    knee_gap: np.ndarray
    bottom: int
    deep: np.ndarray
    baseline: np.ndarray

    def __len__(self) -> int:
        return len(self.seq)

    @property
    def flexion(self) -> np.ndarray:
        """Knee flexion, degrees: 180 - knee angle."""
        return 180.0 - self.knee

    @property
    def facing(self) -> float:
        """How squarely the camera faces the athlete: the median width ratio over the rep's upright
        frames (knee >= ``UPRIGHT_KNEE``), where a forward fold cannot foreshorten the trunk; over
        all frames if none is upright. NaN without a valid ratio."""
        upright = self.knee >= UPRIGHT_KNEE
        x = self.width_ratio[upright & np.isfinite(self.width_ratio)]
        if not x.size:
            x = self.width_ratio[np.isfinite(self.width_ratio)]
        return float(np.median(x)) if x.size else float("nan")

    def phase_at(self, i: int) -> str:
        return "descent" if i < self.bottom else "bottom" if i == self.bottom else "ascent"

    def measure(self, name: str) -> np.ndarray:
        """The series called ``name``. Raises AttributeError for an unknown name."""
        value = getattr(self, name)
        if not isinstance(value, np.ndarray) or value.shape != self.seq.shape:
            raise AttributeError(f"{name!r} is not a per-frame measure")
        return value


def rep_series(frames: Sequence[FrameFeatures], bottom: int | None = None) -> RepSeries:
    """Measures of a rep's frames (in order). ``bottom``: index of the deepest frame (default: the
    smallest knee angle). Raises ValueError for an empty rep."""
    if not frames:
        raise ValueError("a rep needs at least one frame")
    world = np.stack([f.world[:, :3] for f in frames]).astype(np.float64)
    image = np.stack([f.image_xy for f in frames])
    knee = np.array([f.knee for f in frames], np.float64)
    angles = np.stack([f.angles for f in frames])
    if bottom is None:
        bottom = int(np.nanargmin(np.where(np.isfinite(knee), knee, np.inf)))
    flexion = 180.0 - knee
    peak = np.nanmax(flexion) if np.isfinite(flexion).any() else np.nan
    deep = np.isfinite(flexion) & (flexion >= DEEP_FRACTION * peak) if np.isfinite(peak) else np.zeros(len(knee), bool)
    if not deep.any():
        deep[bottom] = True
    time_ns = np.array([f.capture_time_ns for f in frames], np.int64)
    baseline = upright_frames(flexion)
    return RepSeries(
        seq=np.array([f.index for f in frames], np.int64), time_ns=time_ns, knee=knee,
        hip_height=np.array([f.hip_height for f in frames], np.float64),
        trunk_lean=trunk_lean(world), knee_shoulder_ratio=knee_shoulder_ratio(image),
        width_ratio=np.array([width_ratio(p) for p in image], np.float64), heel_rise=heel_rise(image, baseline),
        hip_shift=hip_shift(image), knee_gap=np.abs(angles[:, 0] - angles[:, 1]),
        bottom=bottom, deep=deep, baseline=baseline,
    )


def upright_frames(flexion: np.ndarray) -> np.ndarray:
    """(T,) knee flexion in degrees -> (T,) bool mask of the rep's standing baseline: the frames
    within the lowest ``UPRIGHT_FRACTION`` of its flexion range; the least flexed frame alone when
    the range is flat; the first frame when no flexion is finite."""
    f = np.asarray(flexion, np.float64)
    ok = np.isfinite(f)
    if not ok.any():
        out = np.zeros(len(f), bool)
        out[:1] = True
        return out
    lo, hi = float(np.min(f[ok])), float(np.max(f[ok]))
    return ok & (f <= lo + UPRIGHT_FRACTION * (hi - lo))
