"""Where the fault thresholds come from: each check's measure on every rep of the dev split.

    python -m analysis.evaluation.calibrate [--split dev]

For every check of ``analysis.faults.CHECKS`` it prints, over the reps counted on the split that the
check runs on (the rep's estimated view, as in the live path): the measure's range and median on reps
labelled with the fault and on reps
labelled without it, the ROC AUC of the measure for the label, and the threshold a rule picks:
    labelled reps on both sides: the threshold that maximises F1 while keeping precision >= 0.9,
        placed midway between the two neighbouring measured values (ties: the widest gap);
    no labelled rep with the fault: 1.25 x beyond the most extreme unlabelled rep, so the check
        flags only what no sound rep of the split showed.
and a major threshold: the median of the labelled reps (a fault as bad as the typical labelled
case) when there are at least ``MIN_FOR_MEDIAN`` of them, else as far beyond the minor threshold as
the minor threshold lies from the median unlabelled rep.
Each check's line covers every view it runs in (for a check gated on the camera facing the athlete,
only the reps the gate lets through; a line per gate follows); an indented line per view follows
with the same figures and rule over that view's reps alone, to show where a measure can or cannot
be trusted.
The thresholds in ``analysis.faults`` cite these figures. The test split is never used here.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from analysis.evaluation.dataset import clips_in
from analysis.faults import CHECKS, FaultCheck
from analysis.pose_cache import clip_poses

MIN_PRECISION = 0.9
MIN_FOR_MEDIAN = 5


@dataclass(frozen=True)
class Sample:
    """One counted rep for one check: the check's measure in ``values[check]``, the rep's view and
    how squarely the camera faced the athlete (``measures.RepSeries.facing``)."""

    clip: str
    view: str | None
    truth: bool
    values: dict[str, float]
    facing: float = float("nan")
    gated: bool = False
    """True if the check's facing gate (``FaultCheck.min_facing``) keeps it from running on the rep."""


def samples(split: str = "dev") -> list[Sample]:
    """One sample per counted rep of the split's form-labelled clips, with every check's value."""
    from analysis.session import DEFAULT_MAX_WIDTH, PoseAnalyzer

    out = []
    for clip in clips_in(split):
        if not clip.form_labelled:
            continue
        poses = clip_poses(clip.path, DEFAULT_MAX_WIDTH)
        analyzer = PoseAnalyzer(clip.name, estimator=_NoInference(), history_frames=None)
        for seq, pose in enumerate(poses.poses):
            analyzer.update(pose, seq, int(round(seq * 1e9 / poses.fps)))
        for report in analyzer.reports:
            s = analyzer.rep_frames(report.rep).series()
            for c in CHECKS:
                truth = clip.truth(c.name)
                if truth is not None and c.applies_to(report.view):
                    out.append(Sample(clip.name, report.view, truth, {"check": c.name, c.name: c.measure(s)},
                                      s.facing, not c.applies_to(report.view, s)))
    return out


class _NoInference:
    def estimate(self, frame):
        raise RuntimeError("calibration replays cached poses")


def pick_threshold(check: FaultCheck, pos: np.ndarray, neg: np.ndarray) -> float:
    """The rule of the module doc. ``pos``/``neg``: finite measures of labelled / unlabelled reps."""
    sign = 1.0 if check.higher_is_worse else -1.0
    p, n = sign * pos, sign * neg  # larger = worse from here on
    if p.size == 0:
        worst = n.max() if n.size else 0.0
        return float(sign * (worst * 1.25 if worst > 0 else worst / 1.25))
    values = np.unique(np.concatenate([p, n]))
    best = None
    for lo, hi in zip(values[:-1], values[1:]):
        t = (lo + hi) / 2
        tp, fp = (p > t).sum(), (n > t).sum()
        if tp == 0 or tp / (tp + fp) < MIN_PRECISION:
            continue
        f1 = 2 * tp / (2 * tp + fp + (p <= t).sum())
        key = (f1, hi - lo)
        if best is None or key > best[0]:
            best = (key, t)
    if best is None:
        return float(sign * (n.max() + 1e-6 if n.size else p.min()))
    return float(sign * best[1])


def pick_major(check: FaultCheck, minor: float, pos: np.ndarray, neg: np.ndarray) -> float:
    """The major threshold of the module doc."""
    if pos.size >= MIN_FOR_MEDIAN:
        return float(np.median(pos))
    typical = float(np.median(neg)) if neg.size else minor
    return float(minor + (minor - typical))


def _row(c: FaultCheck, label: str, mine: list[Sample], used: str) -> str:
    from sklearn.metrics import roc_auc_score

    pos = np.array([r.values[c.name] for r in mine if r.truth], float)
    neg = np.array([r.values[c.name] for r in mine if not r.truth], float)
    pos, neg = pos[np.isfinite(pos)], neg[np.isfinite(neg)]
    rng = lambda x: f"{x.size:3d}: {x.min():6.2f}..{np.median(x):6.2f}..{x.max():6.2f}" if x.size else "  0"
    auc = "-"
    if pos.size and neg.size:
        sign = 1 if c.higher_is_worse else -1
        auc = f"{roc_auc_score([1] * pos.size + [0] * neg.size, sign * np.concatenate([pos, neg])):.3f}"
    minor = pick_threshold(c, pos, neg)
    return (f"{c.name:18} {label:34} {rng(pos):>28} {rng(neg):>28} {auc:>6} "
            f"{minor:7.2f} {pick_major(c, minor, pos, neg):7.2f} {used:>15}")


def report(split: str = "dev") -> str:
    """One line per check over every view it runs in, then one per view (indented) with the same
    figures over that view's reps alone."""
    rows = samples(split)
    lines = [f"{'check':18} {'views':34} {'labelled reps':>28} {'other reps':>28} {'AUC':>6} "
             f"{'minor':>7} {'major':>7} {'used':>15}"]
    for c in CHECKS:
        everyone = [r for r in rows if r.values["check"] == c.name]
        mine = [r for r in everyone if not r.gated]
        views = ",".join(f"{v}:{conf}" for v, conf in c.views.items())
        lines.append(_row(c, views, mine, f"{c.minor:7.2f} {c.major:7.2f}"))
        for v in c.views:
            used = " ".join(f"{t:7.2f}" for t in c.thresholds(v))
            lines.append(_row(c, f"  {v}", [r for r in mine if r.view == v], used))
        if c.min_facing is not None:
            lines.extend(_gates(c, everyone))
    return "\n".join(lines)


GATES = (0.40, 0.45, 0.50, 0.55)


def _gates(c: FaultCheck, rows: list[Sample]) -> list[str]:
    """For a check gated on the camera facing the athlete: per gate, the reps it would run on and
    how many unlabelled ones read at least as bad as the mildest labelled one."""
    sign = 1.0 if c.higher_is_worse else -1.0
    out = []
    for gate in GATES:
        kept = [r for r in rows if r.facing >= gate and np.isfinite(r.values[c.name])]
        pos = [sign * r.values[c.name] for r in kept if r.truth]
        neg = [sign * r.values[c.name] for r in kept if not r.truth]
        worse = sum(v >= min(pos) for v in neg) if pos else None
        used = " (used)" if gate == c.min_facing else ""
        out.append(f"{'':18}   facing >= {gate:.2f}{used:7}: {len(pos)} labelled, {len(neg)} other reps, "
                   f"{'-' if worse is None else worse} of them at least as bad as the mildest labelled")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m analysis.evaluation.calibrate", description=__doc__.split("\n")[0])
    p.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    args = p.parse_args(argv)
    print(report(args.split))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
