"""Pure helpers of the Feedback page (no Streamlit runtime needed): tables, labels, chat history."""

from __future__ import annotations

from collections.abc import Sequence

from feedback.query import fault_groups, fault_info, when
from feedback.retriever import RetrievedChunk
from feedback.summary import SetSummary


def _fmt(v: float | None, digits: int = 1, unit: str = "") -> str:
    return "–" if v is None else f"{v:.{digits}f}{unit}"


def rep_rows(summary: SetSummary) -> list[dict]:
    """One row per rep: score (0-100), duration (s), deepest knee angle (deg), largest deviation, faults."""
    rows = []
    for r in summary.reps_detail:
        dev = r.deviation_deg or {}
        worst = max(dev, key=dev.get) if dev else None
        rows.append(
            {
                "rep": r.rep,
                "score": _fmt(r.score),
                "duration (s)": _fmt(r.duration_s, 2),
                "deepest knee (°)": _fmt(r.min_knee_deg, 0),
                "largest deviation": f"{worst} {dev[worst]:.0f}°" if worst else "–",
                "faults": ", ".join(f"{fault_info(f.code).label} ({', '.join(x for x in (f.severity, when(f)) if x)})"
                                    for f in r.faults) or "none",
            }
        )
    return rows


def fault_rows(summary: SetSummary) -> list[dict]:
    """One row per fault code, most important first: severity, reps, when in the rep, worst value
    vs limit, confidence, cue."""
    rows = []
    for g in fault_groups(summary):
        w = g.worst
        unit = "°" if w.unit == "deg" else ""
        rows.append(
            {
                "fault": g.info.label,
                "severity": g.severity,
                "reps": ", ".join(map(str, g.reps)) or "–",
                "when": ", ".join(dict.fromkeys(p for f in g.occurrences if (p := when(f)))) or "–",
                "worst": f"{_fmt(w.value, 2 if w.unit == 'ratio' else 0)}{unit}",
                "limit": f"{_fmt(w.threshold, 2 if w.unit == 'ratio' else 0)}{unit}",
                "confidence": "low" if all(f.confidence == "low" for f in g.occurrences) else "high",
                "cue": w.cue,
            }
        )
    return rows


def source_label(c: RetrievedChunk) -> str:
    """``[knee-tracking#3] Knee tracking and knee valgus — Causes · match 0.62``."""
    return f"[{c.chunk_id}] {c.title} — {c.section} · match {c.score:.2f}"


def source_markdown(c: RetrievedChunk) -> str:
    """A source's text and its references, for an expander."""
    refs = "\n".join(f"- {r}" for r in c.references)
    return f"{c.body}\n\n**References**\n{refs}" if refs else c.body


def trim_history(history: Sequence[dict], turns: int) -> list[dict]:
    """The last ``turns`` question/answer turns (2 messages each)."""
    return list(history)[-2 * turns :]
