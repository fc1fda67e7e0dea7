"""Form-fault checks on one completed rep, judged over the whole movement.

Each check summarises one measure of ``measures.RepSeries`` over the rep (``summarise``), compares
the value with a minor and a major threshold, and reports a ``Fault``: name, severity, one-line cue,
measured value, threshold, the view it was judged from with a confidence, the moments of the rep
where the per-frame measure was beyond the threshold (so the coach can point at them), and, when a
reference of the same view is at hand, the reference's value at matched knee flexion.

Each check declares the views it can be trusted in (``views``: view -> confidence, from
``analysis.check_views``). A view it does not list is skipped, so the multi-camera fusion takes
each check from a camera that sees it.
"Low" confidence marks a measure that rests on MediaPipe's learnt depth (world z) in that view.

Checks and thresholds. The measures are defined in ``measures``; every threshold was picked by
``python -m analysis.evaluation.calibrate`` on the dev split of the labelled clips (rule in its
docstring: best F1 at precision >= 0.9 for the minor threshold, the median labelled rep for the
major one) and rounded; the figures quoted are that command's output (per counted rep, in the views
the check runs in). A check whose measure spreads differently from one view to another has
thresholds per view (``FaultCheck.by_view``), each picked by the same rule on that view's dev reps
(the command prints one line per view). The test split was not used to pick any of them.
    depth_not_reached (side, oblique; front low): the rep's smallest knee angle (3-D, after a
        3-frame median so that one bad frame cannot deepen a rep). Thighs parallel to the floor put
        the knee at roughly 60-80 deg. Minor > 83 deg, major > 106 deg. Dev: labelled shallow reps
        82-129 deg (median 106, 65 reps), others 37-83 deg (71 reps), AUC 1.00. Standard: "thighs
        at least parallel to the floor", NSCA Essentials of Strength Training and Conditioning,
        back squat.
    knees_caving (front, camera square): how far the knees spread since standing: the
        knee-to-shoulder separation ratio (image), median over the deep part, over its median over
        the standing baseline (1 = knees as far apart as standing). Minor < 1.12, major < 0.99
        (knees closer together than standing). Dev: the one labelled caving rep (fitai_incorrect_2)
        1.06; the 5 clean reps filmed square 1.18-1.76 (median 1.24). Knees that track over the
        feet spread as they travel forward; knees caving in spread less, or come together.
        Screen: knee separation in the frontal plane (Noyes et al. 2005, ``measures``). Run only
        with the camera square to the athlete (``FRONTAL_MIN_FACING``).
        Why this measure. The knee-to-shoulder ratio at depth alone (minor < 1.11 on dev) misses
        the test split's caving rep (fitai_incorrect_3: knees 1.50 x the shoulders inside a stance
        1.35 x the shoulders), which led to the stance-relative measures of
        valgus screening. Each was compared on every front-view dev rep, as the dev split alone can
        say which generalises to cameras off square: at a facing gate of 0.40 (50 clean reps),
        clean reps reading at least as bad as the caving rep, and the ROC AUC: knee-to-shoulder
        ratio over standing 5 (AUC 0.90, chosen), knee-to-shoulder ratio 6 (0.88), knee-to-ankle
        ratio over standing 17 (0.66) and at depth 27 (0.46), knee-to-toe ratio over standing 21
        (0.58) and at depth 19 (0.62), knee-to-hip ratio over standing 23 (0.54) and at depth 26
        (0.48). The ankles and toes are small, close landmarks that MediaPipe places less surely
        at depth than the shoulders, and the hips drift as the trunk folds over the thighs. The
        frontal-plane projection angle (FPPA) was not used: it screens single-leg squats at 45-60
        deg of knee flexion, while at the depth of a squat filmed from the front the thigh points
        at the camera (its image length fell to 0.3-0.95 of the shank's on the square dev reps) and
        the image angle at the knee measures the forward travel of the knee more than valgus
        (left knee: clean dev reps 8-75 deg from straight, the caving rep 4 deg). One caving rep per split
        cannot pin a threshold down; the test split's caving rep reads 1.42 on the chosen measure
        (its knees spread well beyond standing in MediaPipe's landmarks, on every ratio above), so
        it is still missed: see the README's Accuracy section.
    forward_lean (side, oblique; front low): trunk angle from vertical (world), median over the
        deep part. Minor > 47 deg, major > 55 deg. Dev: labelled forward-lean / chest-drop reps
        44-73 deg (median 55, 55 reps), others 14-48 deg (121 reps), AUC 0.996. Standard: NASM
        overhead-squat assessment, "excessive forward lean". In a front view the lean rests on
        MediaPipe's depth estimate.
    heels_rising (side; oblique, front low): heel rise since standing in percent of the standing
        leg length (image, ``measures``: the smaller of the heel's rise over the toe and its rise
        in the frame), median over the deep part. Thresholds per view, as the heel landmark
        spreads more where the foot hides it: side minor > 3.7, major > 7.6 (dev: 1 labelled rep
        4.7, 13 others -1.5-2.7); oblique > 2.4, > 4.6 (15 labelled reps 2.7-8.8, median 4.6; 96
        others -6.4-2.0); front > 5.1, > 9.1 (13 labelled reps 7.2-10.6, median 9.1; 31 others
        -3.9-3.1). AUC 1.00 in each view. Medians ignore a heel landmark that jitters for a few
        frames; a hold at the bottom adds deep frames, which a heel kept down keeps near 0.
        Standard: NASM overhead-squat assessment, "feet: heels rise".
        Why this measure. The foot's pitch over its pitch in the first 0.2 s of the rep (the
        threshold on dev: minor > 11 deg) fires on the test split's oblique clips filmed nearly
        square, where the trunk folds over the thighs (precision 0.36). On dev, per view, the
        pitch overlapped in front views (4 reps inside the overlap); it is
        foreshortened as the foot turns towards the camera, and its baseline was no baseline (the
        rep's first 0.2 s already sat at 32-71 deg of knee flexion). With the standing baseline
        of ``measures`` (upright frames at either end), the pitch still overlapped in oblique
        views (6 reps); the heel's rise over the toe alone barely separated there (gap 0.1 between
        the labelled and other reps), its rise in the frame alone by 0.6, the smaller of the two
        by 0.8 in oblique, 4.1 in front and 2.0 in side views. A vertical rise is not
        foreshortened by the camera's yaw, and both readings must agree before a heel counts as up.
    asymmetry (front): lateral hip shift over the ankle separation (image), median over the deep
        part minus the standing baseline. Minor > 0.45, major > 0.90. No dev rep is labelled
        asymmetric, so the threshold sits 1.25 x beyond every front-view dev rep (largest 0.36):
        it flags only shifts that no symmetric squat of the dev split showed, and its recall is
        unmeasured. Standard: NASM overhead-squat assessment, "asymmetrical weight shift".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from analysis.check_views import CHECK_VIEWS, HIGH
from analysis.features import FrameFeatures
from analysis.measures import RepSeries, rep_series
from analysis.view import FRONT, OBLIQUE

MINOR, MAJOR = "minor", "major"
FRONTAL_MIN_FACING = 0.50
"""Knee tracking is read from left-right separations in the image, so it needs the camera square
to the athlete: the rep's upright width ratio (``measures.RepSeries.facing``) at least 0.50, not
just a front view (> 0.40). Dev, knee spread since standing: with the gate at 0.40, 5 of 50 clean
front reps (clips filmed some 30-45 deg off square: posture_009/018/024) read as caving as the
caving rep or worse; at 0.45, 1 of 13 (posture_024); from 0.50, none of 5
(``python -m analysis.evaluation.calibrate`` prints the reps per gate)."""


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


def _deep_relative_to_baseline(measure: str) -> Callable[[RepSeries], tuple[float, np.ndarray]]:
    """Median over the deep part over the median over the standing baseline (a ratio of a ratio:
    1 = as standing); per frame, the measure over that baseline."""
    def summarise(s: RepSeries) -> tuple[float, np.ndarray]:
        x = s.measure(measure)
        base = _median(x[s.baseline])
        if not base > 0:
            return float("nan"), np.full(len(x), np.nan)
        return _median(x[s.deep]) / base, x / base
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
    tell), graded against ``minor``/``major`` in the direction given by ``higher_is_worse``, or
    against ``by_view[view]`` = (minor, major) in a view whose measure spreads differently.
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
    by_view: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def thresholds(self, view: str | None) -> tuple[float, float]:
        """(minor, major) the check grades a rep seen from ``view`` against."""
        return tuple(self.by_view.get(view, (self.minor, self.major)))

    def applies_to(self, view: str | None, series: RepSeries | None = None) -> bool:
        """True if the check runs on a rep seen from ``view`` (and, for a check that needs the
        camera square to the athlete, facing it at least ``min_facing``)."""
        if view not in self.views:
            return False
        return self.min_facing is None or series is None or series.facing >= self.min_facing

    def beyond(self, value, threshold: float):
        return value > threshold if self.higher_is_worse else value < threshold

    def grade(self, value: float, view: str | None = None) -> str | None:
        """``None``, ``"minor"`` or ``"major"`` for a value measured from ``view``."""
        if not np.isfinite(value):
            return None
        minor, major = self.thresholds(view)
        if self.beyond(value, major):
            return MAJOR
        if self.beyond(value, minor):
            return MINOR
        return None

    def moments(self, s: RepSeries, per_frame: np.ndarray, view: str | None = None) -> tuple[Moment, ...]:
        """Runs of deep-part frames beyond the minor threshold of ``view``; the worst frame if there
        is none (a median can be beyond the threshold while no single frame of the run stands out)."""
        minor = self.thresholds(view)[0]
        with np.errstate(invalid="ignore"):
            hit = s.deep & np.isfinite(per_frame) & self.beyond(per_frame, minor)
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
        severity = self.grade(float(value), view)
        if severity is None:
            return None
        ref_value = None
        if reference is not None:
            ref_value = float(self.summarise(reference)[0])
            ref_value = ref_value if np.isfinite(ref_value) else None
        minor, major = self.thresholds(view)
        threshold = major if severity == MAJOR else minor
        return Fault(self.name, severity, self.cue, float(value), threshold, self.unit, view, rep_number,
                     self.views[view], self.moments(series, np.asarray(per_frame, np.float64), view), ref_value)


CHECKS: tuple[FaultCheck, ...] = (
    FaultCheck("depth_not_reached", CHECK_VIEWS["depth_not_reached"], 83.0, 106.0, True, "deg",
               "Sit deeper: bring your hips down to knee height.", _deepest_knee),
    FaultCheck("knees_caving", CHECK_VIEWS["knees_caving"], 1.12, 0.99, False, "ratio",
               "Push your knees out over your toes.", _deep_relative_to_baseline("knee_shoulder_ratio"),
               FRONTAL_MIN_FACING),
    FaultCheck("forward_lean", CHECK_VIEWS["forward_lean"], 47.0, 55.0, True, "deg",
               "Keep your chest up: sit the hips down, not back.", _deep("trunk_lean")),
    FaultCheck("heels_rising", CHECK_VIEWS["heels_rising"], 3.7, 7.6, True, "% leg",
               "Keep your heels down: weight through mid-foot.", _deep("heel_rise"),
               by_view={OBLIQUE: (2.4, 4.6), FRONT: (5.1, 9.1)}),
    FaultCheck("asymmetry", CHECK_VIEWS["asymmetry"], 0.45, 0.90, True, "ratio",
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
