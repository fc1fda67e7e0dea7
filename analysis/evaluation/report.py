"""``python -m analysis evaluate``: the figures per split, as text or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict

from analysis.evaluation.dataset import ALL, SPLITS
from analysis.evaluation.metrics import ClipRecord, check_targets, count_figures, fault_figures, score_figures

TARGET_SPLIT = "test"


def fault_names(records: list[ClipRecord]) -> list[str]:
    """FormSync's checks in report order, then labelled faults no check covers (e.g. lumbar flexion)."""
    from analysis.faults import CHECKS

    names = [c.name for c in CHECKS]
    for rec in records:
        for f in sorted(rec.clip.faults):
            if f not in names:
                names.append(f)
    return names


def figures(records: list[ClipRecord]) -> dict:
    names = fault_names(records)
    faults = [fault_figures(records, f) for f in names]
    counts = count_figures(records)
    scores = score_figures(records)
    return {"faults": faults, "counts": counts, "scores": scores,
            "targets": check_targets([f for f in faults if f.labelled or f.flagged], counts, scores)}


def by_split(records: list[ClipRecord]) -> dict[str, dict]:
    return {s: figures([r for r in records if s == ALL or r.clip.split == s]) for s in (*SPLITS, ALL)}


def to_json(records: list[ClipRecord]) -> str:
    out = {}
    for split, fig in by_split(records).items():
        out[split] = {"faults": {f.fault: f.to_dict() for f in fig["faults"]},
                      "reps": fig["counts"].to_dict(), "scores": fig["scores"].to_dict(),
                      "targets": [{"target": t, "measured": m, "met": ok} for t, m, ok in fig["targets"]]}
    out["clips"] = [{"clip": r.clip.file, "split": r.clip.split, "view": r.clip.view, "reps": r.clip.reps,
                     "counted": r.counted, "faults": sorted(r.clip.faults), "reps_detail": [asdict(x) for x in r.reps]}
                    for r in records]
    return json.dumps(out)


def _f(x, nd=2, width=6) -> str:
    return f"{'-':>{width}}" if x is None else f"{x:>{width}.{nd}f}"


def text(records: list[ClipRecord], per_clip: bool = False) -> str:
    lines: list[str] = []
    splits = by_split(records)
    if per_clip:
        lines.append(f"{'clip':34} {'split':5} {'view':8} {'reps':>4} {'counted':>7} {'score':>6}  "
                     "faults labelled -> flagged")
        for r in records:
            scores = [x.score for x in r.reps if x.score is not None]
            mean = sum(scores) / len(scores) if scores else None
            flagged = sorted({f for x in r.reps for f in x.flagged})
            lines.append(f"{r.clip.name:34} {r.clip.split:5} {str(r.clip.view):8} {r.clip.reps:>4} {r.counted:>7} "
                         f"{_f(mean, 1)}  {','.join(sorted(r.clip.faults)) or '-'} -> {','.join(flagged) or '-'}")
        lines.append("")
    for split, fig in splits.items():
        n = sum(1 for r in records if split == ALL or r.clip.split == split)
        lines.append(f"== {split} split: {n} clips ==")
        lines.append(f"{'fault':20} {'labelled':>8} {'flagged':>7} {'TP':>4} {'precision':>9} {'recall':>6} {'F1':>6}")
        for f in fig["faults"]:
            lines.append(f"{f.fault:20} {f.labelled:>8} {f.flagged:>7} {f.true_positives:>4} {_f(f.precision, 2, 9)} "
                         f"{_f(f.recall)} {_f(f.f1)}")
        c = fig["counts"]
        lines.append(f"reps: exact on {c.exact_rate:.0%} of {c.clips} clips, MAE {c.mae:.2f}, "
                     f"off by one {c.off_by_one_rate:.0%}")
        s = fig["scores"]
        views = ", ".join(f"{v} {m:.1f} ({s.clean_reps_by_view[v]})" for v, m in s.clean_mean_by_view.items()) or "-"
        lines.append(f"score: clean {_f(s.clean_mean, 1, 0)} ({s.clean_reps} reps), faulty {_f(s.faulty_mean, 1, 0)} "
                     f"({s.faulty_reps} reps), AUC {_f(s.auc, 3, 0)}")
        lines.append(f"clean-rep score by view: {views}; spread {_f(s.view_spread, 1, 0)}")
        lines.append("")
    lines.append(f"== targets, on the {TARGET_SPLIT} split ==")
    for target, measured, ok in splits[TARGET_SPLIT]["targets"]:
        mark = "n/a" if ok is None else "met" if ok else "MISSED"
        lines.append(f"  {mark:6} {target}: {measured}")
    return "\n".join(lines)
