"""Form-fault checks on one completed rep, judged over the whole movement.

Each check summarises one measure of ``measures.RepSeries`` over the rep (``summarise``), compares
the value with a minor and a major threshold, and reports a ``Fault``: name, severity, one-line cue,
measured value, threshold, the view it was judged from with a confidence, the moments of the rep
where the per-frame measure was beyond the threshold (so the coach can point at them), and, when a
reference of the same view is at hand, the reference's value at matched knee flexion.

Each check declares the views it can be trusted in (``views``: view -> confidence). A view it does
not list is skipped, so the multi-camera fusion takes each check from a camera that sees it.
"Low" confidence marks a measure that rests on MediaPipe's learnt depth (world z) in that view.

Checks and thresholds. The measures are defined in ``measures``; every threshold was picked by
``python -m analysis.evaluation.calibrate`` on the dev split of the labelled clips (rule in its
docstring: best F1 at precision >= 0.9 for the minor threshold, the median labelled rep for the
major one) and rounded; the figures quoted are that command's output (per counted rep, in the views
the check runs in). The test split was not used.
    depth_not_reached (side, oblique; front low): the rep's smallest knee angle (3-D, after a
        3-frame median so that one bad frame cannot deepen a rep). Thighs parallel to the floor put
        the knee at roughly 60-80 deg. Minor > 83 deg, major > 106 deg. Dev: labelled shallow reps
        82-129 deg (median 106, 65 reps), others 37-83 deg (71 reps), AUC 1.00. Standard: "thighs
        at least parallel to the floor", NSCA Essentials of Strength Training and Conditioning,
        back squat.
    knees_caving (front, camera square): knee-to-shoulder separation ratio (image), median over
        the deep part. Minor < 1.11, major < 0.58 (knees nearly together). Dev: the one labelled
        caving rep 0.90; the 5 clean reps filmed square 1.32-1.90. Knees that track over a stance
        of about shoulder width spread to at least shoulder width at depth; caving pulls them
        inside it. Screen: knee separation at depth as in Barber-Westin et al. 2005 (``measures``).
        Run only with the camera square to the athlete (``FRONTAL_MIN_FACING``). Six dev reps
        cannot pin a threshold down: the minor threshold lies midway between the caving rep and
        the narrowest clean one, and the evaluation's test split is what says how it generalises.
    forward_lean (side, oblique; front low): trunk angle from vertical (world), median over the
        deep part. Minor > 47 deg, major > 55 deg. Dev: labelled forward-lean / chest-drop reps
        44-73 deg (median 55, 55 reps), others 14-48 deg (121 reps), AUC 0.996. Standard: NASM
        overhead-squat assessment, "excessive forward lean". In a front view the lean rests on
        MediaPipe's depth estimate.
    heels_rising (side; oblique, front low): foot pitch (image) over the deep part minus the
        athlete's own pitch standing at the rep's start, median. Minor > 11 deg, major > 17 deg.
        Dev: labelled heel-rise reps 11-21 deg (median 17, 29 reps), others -8-13 deg (140 reps),
        AUC 0.999. Medians over the deep part ignore a heel landmark that jitters for a few
        frames, and a long hold at the bottom weighs no more than a short one. Standard: NASM
        overhead-squat assessment, "feet: heels rise". Oblique and front views foreshorten the
        foot; the change from the athlete's own standing pitch still shows a heel that lifts.
    asymmetry (front): lateral hip shift over the ankle separation (image), median over the deep
        part minus the standing baseline. Minor > 0.45, major > 0.91. No dev rep is labelled
        asymmetric, so the threshold sits 1.25 x beyond every front-view dev rep (largest 0.36):
        it flags only shifts that no symmetric squat of the dev split showed, and its recall is
        unmeasured. Standard: NASM overhead-squat assessment, "asymmetrical weight shift".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from analysis.features import FrameFeatures
from analysis.measures import RepSeries, rep_series
from analysis.view import FRONT, OBLIQUE, SIDE

MINOR, MAJOR = "minor", "major"
HIGH, LOW = "high", "low"
FRONTAL_MIN_FACING = 0.50
"""Knee tracking is read from left-right separations in the image, so it needs the camera square
to the athlete: the rep's upright width ratio (``measures.RepSeries.facing``) at least 0.50, not
just a front view (> 0.40). Dev: with the gate at 0.40 or 0.45, clips filmed some 30-45 deg off
square (posture_009/010/024, fitai_correct_3) read clean knees as narrow as the caving rep;
from 0.50 none does (``python -m analysis.evaluation.calibrate`` prints the reps per gate)."""


@dataclass(frozen=True)
class Moment:
    """A stretch of consecutive frames of a rep where a measure was beyond its threshold.

    start/end: seq numbers; start_time_ns/end_time_ns: capture times; peak: seq of the worst frame;
    phase: where the worst frame lies ("descent", "bottom" or "ascent").
    """

    start_seq: int
    end_seq: int
    start_time_ns: int
    end_time_ns: int
    peak_seq: int
    phase: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Fault:
    """A detected fault. value/threshold/reference_value share ``unit``; rep is the 1-based rep
    number (0 if unknown); confidence "high" or "low" (the view rests on MediaPipe's depth guess);
    moments: where in the rep it happened (at least one)."""

    name: str
    severity: str
    cue: str
    value: float
    threshold: float
    unit: str
    view: str
    rep: int = 0
    confidence: str = HIGH
    moments: tuple[Moment, ...] = ()
    reference_value: float | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["value"] = round(self.value, 2)
        d["reference_value"] = None if self.reference_value is None else round(self.reference_value, 2)
        d["moments"] = [m.to_dict() for m in self.moments]
        return d


@dataclass(frozen=True)
class RepWindow:
    """The frames of one rep (start to end, in order) and the index of its deepest frame in them."""

    frames: Sequence[FrameFeatures]
    bottom: int

    @property
    def bottom_frame(self) -> FrameFeatures:
        return self.frames[self.bottom]

    def series(self) -> RepSeries:
        return rep_series(self.frames, self.bottom)


def _median(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")


def _deep(measure: str) -> Callable[[RepSeries], tuple[float, np.ndarray]]:
    """Median of ``measure`` over the deep part; per frame, the measure itself."""
    def summarise(s: RepSeries) -> tuple[float, np.ndarray]:
        x = s.measure(measure)
        return _median(x[s.deep]), x
    return summarise


def _deep_over_baseline(measure: str) -> Callable[[RepSeries], tuple[float, np.ndarray]]:
    """Median over the deep part minus the median over the standing baseline; per frame, the
    measure minus that baseline."""
    def summarise(s: RepSeries) -> tuple[float, np.ndarray]:
        x = s.measure(measure)
        base = _median(x[s.baseline])
        return _median(x[s.deep]) - base, x - base
    return summarise


def _deepest_knee(s: RepSeries) -> tuple[float, np.ndarray]:
    k = s.knee
    if len(k) >= 3:
        pad = np.concatenate([k[:1], k, k[-1:]])
        k = np.nanmedian(np.stack([pad[:-2], pad[1:-1], pad[2:]]), axis=0)
    return (float(np.nanmin(k)) if np.isfinite(k).any() else float("nan")), k


@dataclass(frozen=True)
class FaultCheck:
    """One fault check: ``summarise(series) -> (value, per-frame values)`` (value NaN = cannot
    tell), graded against ``minor``/``major`` in the direction given by ``higher_is_worse``.
    ``views``: view -> confidence the check is run with; other views are skipped."""

    name: str
    views: Mapping[str, str]
    minor: float
    major: float
    higher_is_worse: bool
    unit: str
    cue: str
    summarise: Callable[[RepSeries], tuple[float, np.ndarray]]
    min_facing: float | None = None

    def applies_to(self, view: str | None, series: RepSeries | None = None) -> bool:
        """True if the check runs on a rep seen from ``view`` (and, for a check that needs the
        camera square to the athlete, facing it at least ``min_facing``)."""
        if view not in self.views:
            return False
        return self.min_facing is None or series is None or series.facing >= self.min_facing

    def beyond(self, value, threshold: float):
        return value > threshold if self.higher_is_worse else value < threshold

    def grade(self, value: float) -> str | None:
        """``None``, ``"minor"`` or ``"major"`` for a measured value."""
        if not np.isfinite(value):
            return None
        if self.beyond(value, self.major):
            return MAJOR
        if self.beyond(value, self.minor):
            return MINOR
        return None

    def moments(self, s: RepSeries, per_frame: np.ndarray) -> tuple[Moment, ...]:
        """Runs of deep-part frames beyond the minor threshold; the worst frame if there is none
        (a median can be beyond the threshold while no single frame of the run stands out)."""
        with np.errstate(invalid="ignore"):
            hit = s.deep & np.isfinite(per_frame) & self.beyond(per_frame, self.minor)
        if not hit.any():
            candidates = np.where(s.deep & np.isfinite(per_frame))[0]
            if candidates.size == 0:
                return ()
            hit = np.zeros(len(s), bool)
            worst = candidates[np.argmax(per_frame[candidates])] if self.higher_is_worse else \
                candidates[np.argmin(per_frame[candidates])]
            hit[worst] = True
        out = []
        idx = np.where(hit)[0]
        for run in np.split(idx, np.where(np.diff(idx) > 1)[0] + 1):
            vals = per_frame[run]
            peak = int(run[np.nanargmax(vals)] if self.higher_is_worse else run[np.nanargmin(vals)])
            out.append(Moment(int(s.seq[run[0]]), int(s.seq[run[-1]]), int(s.time_ns[run[0]]),
                              int(s.time_ns[run[-1]]), int(s.seq[peak]), s.phase_at(peak)))
        return tuple(out)

    def measure(self, s: RepSeries) -> float:
        return float(self.summarise(s)[0])

    def check(self, s: RepSeries | RepWindow, view: str | None, rep_number: int = 0,
              reference: RepSeries | None = None) -> Fault | None:
        """The fault found on a rep seen from ``view``, or None (also None if the view does not
        apply). ``reference``: the reference rep of the same view, for ``reference_value``."""
        series = s.series() if isinstance(s, RepWindow) else s
        if not self.applies_to(view, series):
            return None
        value, per_frame = self.summarise(series)
        severity = self.grade(float(value))
        if severity is None:
            return None
        ref_value = None
        if reference is not None:
            ref_value = float(self.summarise(reference)[0])
            ref_value = ref_value if np.isfinite(ref_value) else None
        threshold = self.major if severity == MAJOR else self.minor
        return Fault(self.name, severity, self.cue, float(value), threshold, self.unit, view, rep_number,
                     self.views[view], self.moments(series, np.asarray(per_frame, np.float64)), ref_value)


CHECKS: tuple[FaultCheck, ...] = (
    FaultCheck("depth_not_reached", {SIDE: HIGH, OBLIQUE: HIGH, FRONT: LOW}, 83.0, 106.0, True, "deg",
               "Sit deeper: bring your hips down to knee height.", _deepest_knee),
    FaultCheck("knees_caving", {FRONT: HIGH}, 1.11, 0.58, False, "ratio",
               "Push your knees out over your toes.", _deep("knee_shoulder_ratio"), FRONTAL_MIN_FACING),
    FaultCheck("forward_lean", {SIDE: HIGH, OBLIQUE: HIGH, FRONT: LOW}, 47.0, 55.0, True, "deg",
               "Keep your chest up: sit the hips down, not back.", _deep("trunk_lean")),
    FaultCheck("heels_rising", {SIDE: HIGH, OBLIQUE: LOW, FRONT: LOW}, 11.0, 17.0, True, "deg",
               "Keep your heels down: weight through mid-foot.", _deep_over_baseline("foot_pitch")),
    FaultCheck("asymmetry", {FRONT: HIGH}, 0.45, 0.91, True, "ratio",
               "Even out: keep your hips centred over your feet.", _deep_over_baseline("hip_shift")),
)
"""All checks, in the order they are reported."""


def check_rep(rep: RepWindow | RepSeries, view: str | None, rep_number: int = 0,
              checks: Sequence[FaultCheck] = CHECKS, reference: RepSeries | None = None) -> list[Fault]:
    """Run every check that applies to ``view`` on ``rep``; returns the faults found (maybe empty)."""
    series = rep.series() if isinstance(rep, RepWindow) else rep
    found = []
    for c in checks:
        f = c.check(series, view, rep_number, reference)
        if f is not None:
            found.append(f)
    return found
