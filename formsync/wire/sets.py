"""Sets: a camera's run of reps, reported by its worker while it runs and when it ends, stored by
the hub (docs/api.md, ``PUT /api/v1/cameras/{id}/set``, ``GET /api/v1/sets``; where a set ends:
``analysis/sets.py``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from formsync.ids import CameraIdField
from formsync.wire.analysis import Fault, View
from formsync.wire.base import Count, Measure, Score, Seq, TimeNs, Wire
from formsync.wire.gaze import GazeSetOut
from formsync.wire.references import ContentHash

SET_ID_PATTERN = r"^[0-9a-f]{32}$"
EndReason = Literal["rest", "source_restart", "camera_stale", "worker_stopped", "worker_lost"]
"""Why a set closed (``analysis/sets.py``; ``worker_lost``: its worker died and another took the
camera over, ``server/leases.py``, or it lost the hub for a whole lease lifetime)."""

_Deg = Annotated[float, Field(ge=0, le=360, allow_inf_nan=False)]
_JointDeg = dict[Annotated[str, Field(max_length=32)], _Deg]


class SetFault(Fault):
    threshold: Measure | None = Field(None, description="The check's threshold, in `unit`.")
    unit: str | None = Field(None, max_length=16, description="Unit of value and threshold, e.g. `deg`.")
    rep: int = Field(0, ge=0, le=100_000, description="1-based rep in the set (0: not tied to a rep).")
    reference_value: Measure | None = Field(None, description="The reference rep's value of the same measure, "
                                                              "in `unit`.")


class SetRep(Wire):
    rep: int = Field(ge=1, le=100_000, description="1-based rep number within the set.")
    start_seq: Seq = Field(description="Seq of the rep's first frame.")
    bottom_seq: Seq = Field(description="Seq of its deepest frame.")
    end_seq: Seq = Field(description="Seq of its last frame.")
    start_time_ns: TimeNs | None = Field(None, description="Capture time of the rep's first frame, ns.")
    end_time_ns: TimeNs | None = Field(None, description="Capture time of the rep's last frame, ns.")
    duration_s: float | None = Field(None, ge=0, le=600, description="Rep duration, s.")
    min_knee_deg: float | None = Field(None, ge=0, le=360, description="Smallest knee angle of the rep, degrees.")
    min_hip_height: float | None = Field(None, ge=-1, le=2, description="Lowest hip height, in leg lengths.")
    score: Score | None = Field(None, description="Rep score, 0-100 (analysis/scoring.py).")
    reference: str | None = Field(None, max_length=64, description="Reference the rep was compared with.")
    reference_hash: ContentHash | None = Field(None, description="Its content hash (which version of it).")
    criteria: dict[Annotated[str, Field(max_length=48)], Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict, max_length=32, description="The score's form terms, 0-1 per check (1: sound).")
    deviation_deg: _JointDeg | None = Field(None, description="Mean |user - reference| per joint over the DTW "
                                                              "path, degrees.")
    bottom_deviation_deg: _JointDeg | None = Field(None, description="Per-joint deviation at the bottom, degrees.")
    faults: list[SetFault] = Field(default_factory=list, max_length=32, description="The rep's faults.")
    view: View = Field("unknown", description="How the camera saw the athlete during the rep.")


class SetIn(Wire):
    """One camera's set (a run of reps), open while it runs and closed when it ends."""

    set_id: str = Field(pattern=SET_ID_PATTERN, description="Worker-chosen id (uuid4 hex); PUTs are idempotent.")
    status: Literal["open", "closed"] = Field(description="`open` while reps may follow, `closed` once ended.")
    end_reason: EndReason | None = Field(None, description="Why it closed (closed sets).")
    started_at_ns: TimeNs = Field(description="Capture time the first rep started, ns.")
    ended_at_ns: TimeNs = Field(description="Capture time of the last analysed frame, ns.")
    reference: str | None = Field(None, max_length=64, description="Reference the reps were scored against.")
    reference_hash: ContentHash | None = Field(None, description="Content hash of the chosen reference as the set "
                                                                 "ended (each rep names the version it was scored "
                                                                 "against).")
    view: View = Field("unknown", description="How the camera saw the athlete.")
    reps: int = Field(ge=0, le=100_000, description="Reps in the set.")
    mean_score: Score | None = Field(None, description="Mean rep score, 0-100.")
    reps_detail: list[SetRep] = Field(default_factory=list, max_length=1000, description="Every rep.")
    faults: list[SetFault] = Field(default_factory=list, max_length=5000, description="Every rep's faults.")
    gaze: GazeSetOut | None = Field(None, description="Gaze over the set: attention, blinks, head pitch.")


class SetOut(SetIn):
    camera_id: CameraIdField
    saved_at: str | None = Field(None, max_length=64, description="When the hub stored the closed set "
                                                                   "(ISO 8601, UTC).")


class SetPutOut(SetOut):
    persisted: bool = Field(description="False while the closed set could not be written; the hub retries.")
    persist_error: str | None = Field(None, max_length=2000, description="Why it could not be written.")


class SetList(Wire):
    sets: list[SetOut] = Field(max_length=500, description="Closed sets, newest first.")
    unsaved: Count = Field(description="Closed sets held in memory because the database refused them.")
    persist_error: str | None = Field(
        None, max_length=2000, description="Why the database refused them (e.g. disk full, locked); null when "
                                          "all are saved.")
