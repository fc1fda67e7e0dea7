"""What to look up for a set: its main fault (or its largest deviation) and the words to search with.

Main fault ranking, most important first: highest severity (critical > warning > info), then the
number of reps it appeared on, then how far past its threshold it went (relative excess). This is
the usual coaching order: fix the most serious, most frequent fault first, one at a time (Kushner
et al., Strength Cond J 2015;37(2):13-60).
"""

from __future__ import annotations

from dataclasses import dataclass

from feedback.summary import SetFault, SetSummary


@dataclass(frozen=True)
class FaultInfo:
    """How to name a fault code to a lifter, what to search for, and what its value measures."""

    label: str
    search: str
    measure: str


FAULTS: dict[str, FaultInfo] = {
    "depth_not_reached": FaultInfo(
        "Depth not reached",
        "squat depth not reaching parallel, hips staying above the knees",
        "smallest knee angle of the rep",
    ),
    "knees_caving": FaultInfo(
        "Knees caving in",
        "knees caving in (knee valgus) during the squat",
        "knee-to-shoulder width ratio over the deep part of the rep",
    ),
    "forward_lean": FaultInfo(
        "Excessive forward lean",
        "excessive forward trunk lean, chest falling forward in the squat",
        "trunk angle from vertical over the deep part of the rep",
    ),
    "heels_rising": FaultInfo(
        "Heels rising",
        "heels lifting off the floor during the squat, ankle mobility",
        "heel rise since standing over the deep part of the rep, in % of leg length",
    ),
    "asymmetry": FaultInfo(
        "Left-right asymmetry",
        "uneven squat shifting to one side, one knee bending more than the other",
        "sideways shift of the hips over the feet",
    ),
}
FAULTS["knee_valgus"] = FAULTS["knees_caving"]  # the name in the literature, which some coaches use

JOINTS: dict[str, tuple[str, str]] = {
    "knee": ("knee bend", "knee bend and squat depth compared with the reference squat"),
    "hip": ("hip bend", "hip hinge and squat depth compared with the reference squat"),
    "ankle": ("ankle bend", "ankle bend, heel contact and ankle mobility in the squat"),
    "trunk_lean": ("trunk lean", "trunk angle and forward lean compared with the reference squat"),
}

SEVERITY_RANK = {"critical": 2, "warning": 1, "info": 0}


def fault_info(code: str) -> FaultInfo:
    """The catalogue entry, or a generic one built from the code for faults added later."""
    words = code.replace("_", " ")
    return FAULTS.get(code, FaultInfo(words.capitalize(), f"{words} in the squat", words))


@dataclass(frozen=True)
class FaultGroup:
    """Every occurrence of one fault code in a set."""

    code: str
    occurrences: tuple[SetFault, ...]

    @property
    def info(self) -> FaultInfo:
        return fault_info(self.code)

    @property
    def severity(self) -> str:
        return max((f.severity for f in self.occurrences), key=lambda s: SEVERITY_RANK.get(s, 0))

    @property
    def reps(self) -> tuple[int, ...]:
        return tuple(sorted({f.rep for f in self.occurrences if f.rep > 0}))

    @property
    def worst(self) -> SetFault:
        """The most severe occurrence; among equals, the one furthest past its threshold."""
        return max(self.occurrences, key=lambda f: (SEVERITY_RANK.get(f.severity, 0), _excess(f)))

    def rank_key(self) -> tuple:
        return (
            SEVERITY_RANK.get(self.severity, 0),
            len(self.reps) or len(self.occurrences),
            _excess(self.worst),
        )


def _excess(f: SetFault) -> float:
    """How far past its threshold a fault went, relative to the threshold (0 when unknown)."""
    if f.value is None or not f.threshold:
        return 0.0
    return abs(f.value - f.threshold) / abs(f.threshold)


def all_faults(summary: SetSummary) -> list[SetFault]:
    """The set's faults; from the reps when the set-level list is empty."""
    return list(summary.faults) or [f for r in summary.reps_detail for f in r.faults]


def fault_groups(summary: SetSummary) -> list[FaultGroup]:
    """Faults grouped by code, most important first (see the module doc)."""
    by_code: dict[str, list[SetFault]] = {}
    for f in all_faults(summary):
        by_code.setdefault(f.code, []).append(f)
    groups = [FaultGroup(code, tuple(fs)) for code, fs in by_code.items()]
    return sorted(groups, key=FaultGroup.rank_key, reverse=True)


def mean_deviations(summary: SetSummary, bottom: bool = False) -> dict[str, float]:
    """Per joint, the mean over reps of the deviation from the reference (deg)."""
    sums: dict[str, list[float]] = {}
    for r in summary.reps_detail:
        dev = r.bottom_deviation_deg if bottom else r.deviation_deg
        for joint, v in (dev or {}).items():
            sums.setdefault(joint, []).append(v)
    return {j: sum(v) / len(v) for j, v in sums.items()}


@dataclass(frozen=True)
class Focus:
    """What the feedback is about: a fault group, or the joint furthest from the reference, or neither."""

    fault: FaultGroup | None
    joint: str | None
    joint_deviation_deg: float | None

    @property
    def search(self) -> str:
        if self.fault is not None:
            return self.fault.info.search
        if self.joint is not None:
            return JOINTS.get(self.joint, (self.joint, f"{self.joint} in the squat"))[1]
        return "squat technique: what good form looks like, tempo and how to progress"


def focus_of(summary: SetSummary) -> Focus:
    groups = fault_groups(summary)
    dev = mean_deviations(summary)
    joint = max(dev, key=dev.get) if dev else None
    return Focus(groups[0] if groups else None, joint, dev.get(joint) if joint else None)


def build_query(summary: SetSummary) -> str:
    """The retrieval query for a set's feedback: its focus, asking for causes, cues and drills."""
    return f"{focus_of(summary).search}: why it happens, coaching cues and drills to fix it"


def build_followup_queries(question: str, summary: SetSummary | None) -> list[str]:
    """The question as asked, plus (with a set) the question in the context of the set's focus, so
    "how do I fix it?" still finds the fault it refers to. Results are merged by the caller."""
    queries = [question.strip()]
    if summary is not None:
        queries.append(f"{question.strip()} ({focus_of(summary).search})")
    return queries


def _num(v: float | None, unit: str | None = None) -> str:
    if v is None:
        return "n/a"
    return (
        f"{v:.0f}°"
        if unit == "deg"
        else f"{v:.2f}"
        if unit == "ratio"
        else f"{v:g}{' ' + unit if unit else ''}"
    )


PHASE_WORDS = {"descent": "on the way down", "bottom": "at the bottom", "ascent": "on the way up"}


def when(f: SetFault) -> str:
    """Where in the rep a fault showed, e.g. ``on the way down and on the way up`` ("" if unknown)."""
    phases = list(dict.fromkeys(m.phase for m in f.moments))
    return " and ".join(PHASE_WORDS.get(p, p) for p in phases)


def describe_fault(f: SetFault) -> str:
    """One fault for a prompt, e.g. ``knees_caving (critical, rep 2, front view, on the way down):
    knee-to-shoulder width ratio over the deep part of the rep 0.71, limit 1.11``."""
    where = ", ".join(
        x for x in (f.severity, f"rep {f.rep}" if f.rep else "", f"{f.view} view" if f.view else "",
                    "low confidence" if f.confidence == "low" else "", when(f)) if x
    )
    measured = f"{fault_info(f.code).measure} {_num(f.value, f.unit)}, limit {_num(f.threshold, f.unit)}"
    return f"{f.code} ({where}): {measured}" + (f"; cue: {f.cue}" if f.cue else "")


def describe_measurements(summary: SetSummary) -> str:
    """The set's measurements as plain lines for an LLM prompt (no free text from the user)."""
    lines = [
        f"Set on camera {summary.camera_id} ({summary.view} view): {summary.reps} reps, mean score "
        f"{_num(summary.mean_score)} / 100 against reference {summary.reference or 'default'}."
    ]
    for r in summary.reps_detail:
        dev = ", ".join(f"{k} {v:.0f}°" for k, v in (r.deviation_deg or {}).items()) or "n/a"
        bottom = ", ".join(f"{k} {v:.0f}°" for k, v in (r.bottom_deviation_deg or {}).items()) or "n/a"
        lines.append(
            f"Rep {r.rep}: score {_num(r.score)}, duration {_num(r.duration_s, 's')}, deepest knee angle "
            f"{_num(r.min_knee_deg, 'deg')}; deviation from reference: {dev}; at the bottom: {bottom}."
        )
    groups = fault_groups(summary)
    if groups:
        lines.append("Faults, most important first:")
        lines += [f"- {describe_fault(f)}" for g in groups for f in g.occurrences]
    else:
        lines.append("Faults: none flagged.")
    return "\n".join(lines)
