"""The offline grounded composer: deterministic coaching from the measurements and retrieved chunks.

It needs no model and no network, so it is the default provider and the fallback when an LLM fails.
Every sentence taken from the knowledge base carries the citation of the chunk it came from, and it
only ever cites chunks it was given. The structure follows a coach's order:
what went well, the main fault (what was measured), why it happens, one cue, one drill.

What it reads from the chunks (the knowledge documents are written to this layout, see rag_data/):
    why   - the first list items of a "Causes" section (else the first sentences of "Why it matters");
    cue   - the first list item of a "Cues" section;
    drill - the first list item of a "Drills and regressions" section, or a drill from the drills
            catalogue (its first two sentences).
Chunks of the document that explains the focus fault (front matter ``faults``) are preferred;
otherwise the best-ranked chunk with the section wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from feedback.query import JOINTS, FaultGroup, Focus, fault_groups, focus_of, mean_deviations
from feedback.retriever import RetrievedChunk
from feedback.summary import SetSummary

OFFLINE_LABEL = (
    "*Offline coaching — written by FormSync's fixed template from your measurements and the "
    "knowledge-base passages it cites; no language model was used.*"
)
OFFLINE_ANSWER_LABEL = (
    "*Offline answer — the knowledge-base passages that best match your question, quoted "
    "by a fixed template; no language model was used.*"
)
# Strength thresholds of "what went well". GOOD_SCORE: reps in the reference's own style score in the
# 80s-90s on FormSync's test footage (rag_data/formsync-measurements.md); 75 leaves room below that.
# CONSISTENT_SPREAD: 5 points is about the rep-to-rep spread of a clean set in the same footage.
GOOD_SCORE = 75.0
CONSISTENT_SPREAD = 5.0
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])")


def list_items(body: str) -> list[str]:
    """The list items of a chunk body (one per ``- `` line, see ``chunking.unwrap``)."""
    return [line[2:].strip() for line in body.splitlines() if line.startswith("- ")]


def sentences(body: str, n: int) -> str:
    """The first ``n`` sentences of the prose (non-list) lines of a chunk body."""
    prose = " ".join(line.strip() for line in body.splitlines() if line.strip() and not line.startswith("- "))
    return " ".join(_SENTENCE.split(prose)[:n]).strip()


def _section_is(chunk: RetrievedChunk, word: str) -> bool:
    return word in chunk.section.lower()


def pick(chunks: Sequence[RetrievedChunk], word: str, fault: str | None) -> RetrievedChunk | None:
    """The best chunk whose section name contains ``word``, from the fault's own document if any."""
    candidates = [c for c in chunks if _section_is(c, word)]
    if fault:
        own = [c for c in candidates if fault in c.faults and c.doc_id != "drills-and-regressions"]
        if own:
            return own[0]
    return candidates[0] if candidates else None


def _catalogue_drill(chunks: Sequence[RetrievedChunk], fault: str | None) -> RetrievedChunk | None:
    drills = [c for c in chunks if c.doc_id == "drills-and-regressions" and not _section_is(c, "how to use")]
    if fault:
        drills = [c for c in drills if fault in c.faults] or drills
    return drills[0] if drills else None


def _cite(c: RetrievedChunk) -> str:
    return f"[{c.chunk_id}]"


def _unquote(s: str) -> str:
    return s.strip().strip('"“”').strip()


def _rep_list(reps: Sequence[int]) -> str:
    if not reps:
        return "the set"
    if len(reps) == 1:
        return f"rep {reps[0]}"
    return "reps " + ", ".join(map(str, reps[:-1])) + f" and {reps[-1]}"


def _value(v: float | None, unit: str | None) -> str:
    if v is None:
        return "n/a"
    if unit == "deg":
        return f"{v:.0f}°"
    if unit == "ratio":
        return f"{v:.2f}"
    return f"{v:g} {unit or ''}".strip()


def went_well(summary: SetSummary) -> list[str]:
    """Up to three strengths read off the measurements (no knowledge-base claim, so no citation)."""
    out: list[str] = []
    reps = summary.reps_detail
    flagged = {f.rep for r in reps for f in r.faults} | {f.rep for f in summary.faults}
    clean = [r.rep for r in reps if r.rep not in flagged]
    if reps and not flagged:
        out.append("No form fault was flagged on your rep." if len(reps) == 1
                   else f"No form fault was flagged on any of your {len(reps)} reps.")
    elif clean:
        out.append(f"{_rep_list(clean).capitalize()} had no flagged fault.")
    scored = [r for r in reps if r.score is not None]
    if scored:
        best = max(scored, key=lambda r: r.score)
        if best.score >= GOOD_SCORE:
            out.append(f"Your best rep (rep {best.rep}) scored {best.score:.0f}/100 against the reference.")
        spread = max(r.score for r in scored) - min(r.score for r in scored)
        if len(scored) >= 3 and spread <= CONSISTENT_SPREAD:
            out.append(
                f"Your reps were consistent: every score within {CONSISTENT_SPREAD:.0f} points of the others."
            )
    codes = {f.code for r in reps for f in r.faults} | {f.code for f in summary.faults}
    if summary.view in ("side", "oblique") and reps and "depth_not_reached" not in codes:
        out.append("You reached depth on every rep the side camera could judge.")
    if summary.view == "front" and reps and not codes & {"knees_caving", "knee_valgus"}:
        out.append("Your knees tracked over your feet (no knees caving in from the front).")
    dev = mean_deviations(summary)
    if len(dev) >= 2 and not out[2:]:
        joint = min(dev, key=dev.get)
        name = JOINTS.get(joint, (joint,))[0]
        out.append(f"Your {name} stayed closest to the reference (mean difference {dev[joint]:.0f}°).")
    return out[:3]


def _fault_line(g: FaultGroup) -> str:
    w = g.worst
    measured = ""
    if w.value is not None:
        limit = f", limit {_value(w.threshold, w.unit)}" if w.threshold is not None else ""
        measured = f"; worst {g.info.measure} {_value(w.value, w.unit)}{limit}"
    view = f" from the {w.view} camera" if w.view else ""
    return f"**Main fault — {g.info.label}:** {g.severity} on {_rep_list(g.reps)}{view}{measured}."


def _focus_line(summary: SetSummary, focus: Focus) -> str:
    if focus.fault is not None:
        return _fault_line(focus.fault)
    if focus.joint is not None:
        name = JOINTS.get(focus.joint, (focus.joint,))[0]
        bottom = mean_deviations(summary, bottom=True).get(focus.joint)
        at_bottom = f", {bottom:.0f}° at the bottom" if bottom is not None else ""
        return (
            f"**Main point — {name}:** no fault was flagged; your {name} differed most from the reference "
            f"({focus.joint_deviation_deg:.0f}° on average{at_bottom})."
        )
    return "**Main point:** no fault was flagged and there is no reference comparison for this set."


def compose_feedback(summary: SetSummary, chunks: Sequence[RetrievedChunk]) -> str:
    """The offline coaching for ``summary`` as Markdown, citing only ``chunks`` (best first)."""
    lines = [OFFLINE_LABEL, ""]
    if summary.reps == 0 or not summary.reps_detail:
        lines.append(
            "This set has no completed rep yet, so there is nothing to coach. Finish a few reps and "
            "ask again."
        )
        return "\n".join(lines)
    focus = focus_of(summary)
    code = focus.fault.code if focus.fault else None
    good = went_well(summary)
    lines.append("**What went well:** " + (" ".join(good) if good else f"You completed {summary.reps} reps."))
    lines += ["", _focus_line(summary, focus)]
    others = fault_groups(summary)[1:]
    if others:
        listed = "; ".join(f"{g.info.label} ({g.severity} on {_rep_list(g.reps)})" for g in others)
        lines.append(f"Also flagged: {listed}. Work on the main fault first, one at a time.")

    cause = pick(chunks, "cause", code)
    if cause and list_items(cause.body):
        items = list_items(cause.body)[:2]
        lines += ["", f"**Why it happens:** the most common causes are {_cite(cause)}:"]
        lines += [f"- {item}" for item in items]
    else:
        why = pick(chunks, "why it matters", code)
        if why:
            lines += ["", f"**Why it matters:** {sentences(why.body, 2)} {_cite(why)}"]

    cue = pick(chunks, "cue", code)
    measured_cue = focus.fault.worst.cue if focus.fault and focus.fault.worst.cue else ""
    if cue and list_items(cue.body):
        lines += ["", f"**Cue:** “{_unquote(list_items(cue.body)[0])}” {_cite(cue)}"]
    elif measured_cue:
        lines += ["", f"**Cue:** “{_unquote(measured_cue)}” (FormSync's cue for this fault)"]

    drill = pick(chunks, "drill", code)
    catalogue = _catalogue_drill(chunks, code)
    if drill and list_items(drill.body):
        lines += ["", f"**Drill:** {list_items(drill.body)[0]} {_cite(drill)}"]
    elif catalogue:
        lines += ["", f"**Drill — {catalogue.section}:** {sentences(catalogue.body, 2)} {_cite(catalogue)}"]

    if not any((cause, cue, drill, catalogue)):
        lines += [
            "",
            "The knowledge base returned no passage on this point, so only your measurements are "
            "shown above.",
        ]
    if focus.fault is not None and focus.fault.severity == "critical":
        lines += [
            "",
            "A critical fault is a sign to lower the load until the fault is gone, not to push harder.",
        ]
    return "\n".join(lines)


def compose_answer(question: str, chunks: Sequence[RetrievedChunk], max_passages: int = 2) -> str:
    """The offline answer to a follow-up question: the best matching passages, quoted and cited."""
    lines = [OFFLINE_ANSWER_LABEL, ""]
    if not chunks:
        lines.append("The knowledge base has no passage that matches this question.")
        return "\n".join(lines)
    for c in chunks[:max_passages]:
        items = list_items(c.body)
        text = sentences(c.body, 3) or "; ".join(items[:3])
        if items and len(text) < 80:
            text = (text + " " + "; ".join(items[:3])).strip()
        lines += [f"**{c.title} — {c.section}:** {text} {_cite(c)}", ""]
    return "\n".join(lines).rstrip()


def stream_text(text: str) -> Iterator[str]:
    """``text`` in word-sized pieces, so the offline answer streams on the page like a model's."""
    yield from re.findall(r"\S+\s*|\s+", text)
