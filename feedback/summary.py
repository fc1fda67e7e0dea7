"""The set summary the feedback is built from: the hub's ``SetSummary`` (``GET /api/v1/sets/{id}``).

Models accept and ignore unknown fields, so a hub that adds fields does not break the dashboard.
``from_analysis_summary`` turns the offline analysis output (``python -m analysis reps VIDEO --json``)
into the same shape, so saved analysis runs can be coached too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

View = Literal["front", "side", "oblique", "unknown"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class FaultMoment(_Model):
    """A run of frames of a rep beyond the check's threshold (capture times, ns)."""

    start_time_ns: int
    end_time_ns: int
    peak_seq: int = 0
    phase: Literal["descent", "bottom", "ascent"]


class SetFault(_Model):
    """One fault on one rep. ``value`` and ``threshold`` are in ``unit`` (``deg``, ``ratio``...)."""

    code: str = Field(pattern=r"^[a-z0-9_]{1,48}$", description="Fault code, e.g. `knees_caving`.")
    severity: Literal["info", "warning", "critical"] = "warning"
    cue: str = Field("", max_length=200)
    view: str | None = None
    value: float | None = Field(None, allow_inf_nan=False)
    threshold: float | None = Field(None, allow_inf_nan=False)
    unit: str | None = Field(None, max_length=16)
    rep: int = Field(0, ge=0, description="1-based rep (0: not tied to a rep).")
    confidence: Literal["high", "low"] | None = Field(
        None, description="low: the camera's view gives only an estimate of this measure.")
    moments: tuple[FaultMoment, ...] = Field((), description="Where in the rep the fault showed.")


class SetRep(_Model):
    """One rep: its score against the reference (0-100), duration (s), deepest knee angle (deg),
    per-joint deviations from the reference (deg; keys knee, hip, ankle, trunk_lean) and faults."""

    rep: int = Field(ge=1)
    duration_s: float | None = Field(None, ge=0)
    min_knee_deg: float | None = None
    min_hip_height: float | None = None
    score: float | None = Field(None, ge=0, le=100)
    deviation_deg: dict[str, float] | None = None
    bottom_deviation_deg: dict[str, float] | None = None
    faults: list[SetFault] = Field(default_factory=list)
    view: View = "unknown"


class SetSummary(_Model):
    """A camera's set of reps (open while it runs, closed when it ends); times are ns on the hub clock."""

    set_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    camera_id: str = Field(max_length=64)
    status: Literal["open", "closed"] = "closed"
    end_reason: str | None = None
    started_at_ns: int = Field(0, ge=0)
    ended_at_ns: int = Field(0, ge=0)
    saved_at: str | None = None
    reference: str | None = None
    view: View = "unknown"
    reps: int = Field(ge=0)
    mean_score: float | None = Field(None, ge=0, le=100)
    reps_detail: list[SetRep] = Field(default_factory=list)
    faults: list[SetFault] = Field(default_factory=list)

    @property
    def started_at(self) -> datetime | None:
        return datetime.fromtimestamp(self.started_at_ns / 1e9, UTC) if self.started_at_ns else None

    @property
    def duration_s(self) -> float:
        return max(0.0, (self.ended_at_ns - self.started_at_ns) / 1e9)

    def label(self) -> str:
        """One line for a picker: ``side · 2026-11-21 03:10 UTC · 3 reps · score 71.4``."""
        when = self.started_at.strftime("%Y-%m-%d %H:%M:%S UTC") if self.started_at else "time unknown"
        score = f"score {self.mean_score:.1f}" if self.mean_score is not None else "no score"
        live = " · live" if self.status == "open" else ""
        return f"{self.camera_id} · {when} · {self.reps} rep{'s' * (self.reps != 1)} · {score}{live}"


def from_analysis_summary(summary: dict, camera_id: str = "offline", set_id: str | None = None) -> SetSummary:
    """A ``SetSummary`` from ``PoseAnalyzer.summary()`` (the ``analysis reps --json`` output), with the
    same conversion the analysis worker applies before sending a set to the hub (``analysis.sets``)."""
    from analysis.sets import SetTracker, set_to_wire

    tracker = SetTracker(camera_id) if set_id is None else SetTracker(camera_id, set_id=set_id)
    ends = [r.get("end_time_ns") or 0 for r in summary.get("reps_detail", [])]
    wire = set_to_wire(
        tracker,
        summary,
        status="closed",
        end_reason=None,
        ended_at_ns=int(max(ends, default=0)),
        reference=summary.get("reference"),
    )
    return SetSummary.model_validate({**wire.model_dump(), "camera_id": camera_id})


def load_summary(data: dict) -> SetSummary:
    """Either shape: a hub ``SetSummary`` (has ``set_id``) or an analysis summary (has ``reps_detail``
    but no ``set_id``). Raises ``pydantic.ValidationError`` when it is neither."""
    if "set_id" not in data and "reps_detail" in data:
        return from_analysis_summary(data)
    return SetSummary.model_validate(data)
