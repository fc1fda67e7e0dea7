"""Figures of the evaluation, computed from per-clip and per-rep records.

Unit of evaluation: a rep. A counted rep inherits its clip's truths (``dataset.LabelledClip.truth``);
a rep the counter missed (the clip has more reps than were counted) is a labelled rep nobody flagged,
so missing reps costs recall, never precision.

    fault table    per fault: reps labelled, reps flagged (among reps whose truth is known),
                   true positives, precision = TP / flagged, recall = TP / labelled, F1 (harmonic
                   mean). A fault nobody flagged has no precision (None), not 0 or 1.
    rep counting   exact-match rate (clips counted exactly right), mean absolute error in reps per
                   clip, off-by-one rate (clips off by exactly one).
    separation     mean per-rep score of clean and of faulty reps, and the ROC AUC of the score as a
                   predictor of "clean" (``sklearn.metrics.roc_auc_score``; 1 = every clean rep
                   scores above every faulty one, 0.5 = chance).
    view bias      mean score of clean reps per view (the clip's labelled view), and the spread
                   (largest minus smallest mean).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from analysis.evaluation.dataset import LabelledClip


@dataclass
class RepRecord:
    """One counted rep: score 0..100 (None without a reference), flagged fault names, view estimate."""

    clip: str
    rep: int
    start_time_ns: int
    end_time_ns: int
    score: float | None
    flagged: list[str]
    view: str | None


@dataclass
class ClipRecord:
    """One clip's run: counted reps and their records."""

    clip: LabelledClip
    counted: int
    reps: list[RepRecord] = field(default_factory=list)

    @property
    def missed(self) -> int:
        return max(0, self.clip.reps - self.counted)


@dataclass(frozen=True)
class FaultFigures:
    fault: str
    labelled: int
    flagged: int
    true_positives: int

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.flagged if self.flagged else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.labelled if self.labelled else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return 0.0 if self.labelled and not self.flagged else None
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


def fault_figures(records: list[ClipRecord], fault: str) -> FaultFigures:
    labelled = flagged = tp = 0
    for rec in records:
        truth = rec.clip.truth(fault)
        if truth is None:
            continue
        if truth:
            labelled += rec.counted + rec.missed
        for r in rec.reps:
            if fault in r.flagged:
                flagged += 1
                tp += int(truth)
    return FaultFigures(fault, labelled, flagged, tp)


@dataclass(frozen=True)
class CountFigures:
    clips: int
    exact_rate: float
    mae: float
    off_by_one_rate: float

    def to_dict(self) -> dict:
        return asdict(self)


def count_figures(records: list[ClipRecord]) -> CountFigures:
    err = np.array([r.counted - r.clip.reps for r in records], float)
    if err.size == 0:
        return CountFigures(0, float("nan"), float("nan"), float("nan"))
    return CountFigures(len(err), float(np.mean(err == 0)), float(np.mean(np.abs(err))),
                        float(np.mean(np.abs(err) == 1)))


@dataclass(frozen=True)
class ScoreFigures:
    clean_reps: int
    faulty_reps: int
    clean_mean: float | None
    faulty_mean: float | None
    auc: float | None
    clean_mean_by_view: dict[str, float]
    clean_reps_by_view: dict[str, int]

    @property
    def view_spread(self) -> float | None:
        v = list(self.clean_mean_by_view.values())
        return max(v) - min(v) if len(v) >= 2 else None

    def to_dict(self) -> dict:
        return {**asdict(self), "view_spread": self.view_spread}


def _mean(x: list[float]) -> float | None:
    return float(np.mean(x)) if x else None


def score_figures(records: list[ClipRecord]) -> ScoreFigures:
    clean, faulty, by_view = [], [], {}
    for rec in records:
        cls = rec.clip.rep_class
        for r in rec.reps:
            if cls is None or r.score is None:
                continue
            (clean if cls == "clean" else faulty).append(r.score)
            if cls == "clean" and rec.clip.view:
                by_view.setdefault(rec.clip.view, []).append(r.score)
    auc = None
    if clean and faulty:
        from sklearn.metrics import roc_auc_score

        auc = float(roc_auc_score([1] * len(clean) + [0] * len(faulty), clean + faulty))
    return ScoreFigures(len(clean), len(faulty), _mean(clean), _mean(faulty), auc,
                        {v: float(np.mean(s)) for v, s in sorted(by_view.items())},
                        {v: len(s) for v, s in sorted(by_view.items())})


@dataclass(frozen=True)
class Targets:
    """The coaching targets, checked on one split (the test split)."""

    KNEES_CAVING_F1 = 0.8
    PRECISION = 0.8
    EXACT_RATE = 0.9
    MAE = 0.3
    AUC = 0.85
    VIEW_SPREAD = 8.0


def check_targets(
    faults: list[FaultFigures], counts: CountFigures, scores: ScoreFigures
) -> list[tuple[str, str, bool | None]]:
    """``(target, measured, met)`` rows; met is None when the split cannot measure it."""
    rows: list[tuple[str, str, bool | None]] = []
    kc = next((f for f in faults if f.fault == "knees_caving"), None)
    if kc is not None:
        rows.append((f"knees_caving F1 >= {Targets.KNEES_CAVING_F1}", _fmt(kc.f1),
                     None if kc.f1 is None else kc.f1 >= Targets.KNEES_CAVING_F1))
    for f in faults:
        rows.append((f"{f.fault} precision >= {Targets.PRECISION}",
                     f"{_fmt(f.precision)} ({f.true_positives}/{f.flagged})",
                     None if f.precision is None else f.precision >= Targets.PRECISION))
    rows.append((f"reps exact on >= {Targets.EXACT_RATE:.0%} of clips", f"{counts.exact_rate:.0%}",
                 counts.exact_rate >= Targets.EXACT_RATE))
    rows.append((f"rep count MAE <= {Targets.MAE}", f"{counts.mae:.2f}", counts.mae <= Targets.MAE))
    rows.append((f"score AUC (clean vs faulty) >= {Targets.AUC}", _fmt(scores.auc),
                 None if scores.auc is None else scores.auc >= Targets.AUC))
    spread = scores.view_spread
    rows.append((f"clean-rep mean score per view within {Targets.VIEW_SPREAD:.0f} points", _fmt(spread, 1),
                 None if spread is None else spread <= Targets.VIEW_SPREAD))
    return rows


def _fmt(x: float | None, nd: int = 2) -> str:
    return "-" if x is None else f"{x:.{nd}f}"
