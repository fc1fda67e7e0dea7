"""Wire models of the hub API, for validation and the OpenAPI schema."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.gaze_schemas import GazeOut, GazeSetOut


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FrameMeta(_Wire):
    camera_id: str = Field(description="Camera id.")
    seq: int = Field(ge=0, description="Per-camera sequence number.")
    capture_time_ns: int = Field(ge=0, description="Capture time, ns since the Unix epoch.")
    hub_receive_time_ns: int = Field(ge=0, description="When the hub received it, ns since the epoch.")
    source_frame: int | None = Field(None, ge=0, description="Frame index in the source video, if a file.")
    width: int = Field(ge=1, description="Image width in pixels.")
    height: int = Field(ge=1, description="Image height in pixels.")
    bytes: int = Field(ge=1, description="JPEG size in bytes.")
    clock_offset_ns: int | None = Field(None, description="Hub minus camera clock, as the camera estimated it, ns.")
    clock_uncertainty_ns: int | None = Field(None, ge=0, description="Bound on that estimate's error, ns.")


class CameraOut(_Wire):
    camera_id: str
    online: bool = Field(description="False once no frame arrived for `stale_after_s` (default 2 s).")
    fps: float = Field(ge=0, description="Capture rate estimated over the ring, frames/s.")
    seq: int = Field(ge=0)
    last_capture_time_ns: int = Field(ge=0)
    age_ms: float = Field(description="Hub time now minus the latest capture time, ms.")
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    frames_total: int = Field(ge=0)
    gaps: int = Field(ge=0, description="Frames missing by sequence number.")
    clock_offset_ms: float | None = Field(None, description="Hub minus camera clock (camera's estimate), ms.")
    clock_uncertainty_ms: float | None = Field(None, ge=0, description="Bound on the offset's error, ms.")


class CamerasOut(_Wire):
    cameras: list[CameraOut]


class SyncSetOut(_Wire):
    spread_ms: float = Field(ge=0, description="Newest minus oldest capture time in the set, ms.")
    max_spread_ms: float = Field(gt=0, description="Largest spread the synchroniser accepts, ms.")
    frames: list[FrameMeta]


class StreamHeader(_Wire):
    """JSON header of one WebSocket ingest message."""

    seq: int = Field(ge=0, le=2**63 - 1)
    capture_time_ns: int = Field(ge=0, le=2**63 - 1)
    source_frame: int | None = Field(None, ge=0, le=2**63 - 1)
    clock_offset_ns: int | None = Field(None, ge=-(2**62), le=2**62)
    clock_uncertainty_ns: int | None = Field(None, ge=0, le=2**62)
    fps: float | None = Field(None, ge=0.1, le=240,
                              description="The camera's frame rate; its upload limit is 2x this (server/limits.py).")


class TimeOut(_Wire):
    """Hub timestamps of one NTP-style exchange (RFC 5905 t1, t2), ns since the epoch."""

    receive_time_ns: int
    send_time_ns: int


class HealthOut(_Wire):
    status: str
    cameras: int = Field(ge=0)


class ErrorDetail(_Wire):
    code: str
    message: str
    details: dict
    request_id: str


class ErrorOut(_Wire):
    error: ErrorDetail


# One landmark: [x, y, z, visibility]. Image landmarks: x, y normalised to [0, 1] by width and
# height (may fall slightly outside for joints out of frame), z in the same scale as x relative to
# the hips; world landmarks: metres, hip-centred. Visibility in [0, 1]. (MediaPipe Pose docs.)
Landmark = Annotated[list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=4, max_length=4)]
POSE_LANDMARKS = 33


class FaultMoment(_Wire):
    """Where in a rep a fault showed: a run of frames beyond the check's threshold."""

    start_time_ns: int = Field(ge=0, le=2**63 - 1, description="Capture time of the run's first frame, ns.")
    end_time_ns: int = Field(ge=0, le=2**63 - 1, description="Capture time of the run's last frame, ns.")
    peak_seq: int = Field(ge=0, le=2**63 - 1, description="Seq of the worst frame of the run.")
    phase: Literal["descent", "bottom", "ascent"] = Field(description="Where the worst frame lies in the rep.")


class Fault(_Wire):
    code: str = Field(pattern=r"^[a-z0-9_]{1,48}$", description="Machine name, e.g. `knees_caving`.")
    severity: Literal["info", "warning", "critical"]
    cue: str = Field(max_length=200, description="One-line coaching cue.")
    view: str | None = Field(None, max_length=16, description="Camera view the check used.")
    value: float | None = Field(None, allow_inf_nan=False, description="Measured value, in the check's unit.")
    confidence: Literal["high", "low"] | None = Field(
        None, description="low: in this view the measure rests on MediaPipe's depth estimate.")
    moments: list[FaultMoment] = Field(default_factory=list, max_length=16,
                                       description="Where in the rep it happened (analysis/faults.py).")


class RepState(_Wire):
    count: int = Field(ge=0, le=100_000, description="Reps completed so far.")
    phase: str = Field(max_length=32, description="e.g. standing, descending, bottom, ascending.")
    rep_scores: list[Annotated[float, Field(ge=0, le=100)]] = Field(default_factory=list, max_length=1000)


class AnalysisIn(_Wire):
    """One frame's analysis result, posted by an analysis worker."""

    seq: int = Field(ge=0, le=2**63 - 1, description="Seq of the analysed frame.")
    capture_time_ns: int = Field(ge=0, le=2**63 - 1, description="Capture time of the analysed frame.")
    source_frame: int | None = Field(None, ge=0, le=2**63 - 1)
    processing_ms: float = Field(ge=0, le=600_000, description="Worker time spent on this frame, ms.")
    pose_found: bool
    landmarks: list[Landmark] | None = Field(None, min_length=POSE_LANDMARKS, max_length=POSE_LANDMARKS)
    world_landmarks: list[Landmark] | None = Field(None, min_length=POSE_LANDMARKS, max_length=POSE_LANDMARKS)
    angles: dict[Annotated[str, Field(max_length=32)], Annotated[float, Field(ge=-360, le=360)]] = Field(
        default_factory=dict, description="Joint angles in degrees, by name (e.g. `knee_left`).")
    view: Literal["front", "side", "oblique", "unknown"] = "unknown"
    score: float | None = Field(None, ge=0, le=100, description="Similarity to the reference, 0-100.")
    reference_seq: int | None = Field(
        None, ge=0, le=10_000_000, description="Seq of the reference frame matched to this frame's phase.")
    reference: str | None = Field(None, max_length=64, description="Reference this frame was scored against "
                                                                     "(the library's reference of the camera's view).")
    rep: RepState
    faults: list[Fault] = Field(default_factory=list, max_length=32)
    gaze: GazeOut | None = Field(None, description="Head pose, gaze, blink, attention; null with gaze off.")
    skipped_frames: int = Field(0, ge=0, description="Frames this worker skipped for this camera so far.")
    worker_id: str = Field("worker", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")


class AnalysisOut(AnalysisIn):
    camera_id: str
    hub_receive_time_ns: int = Field(ge=0)
    latency_ms: float = Field(description="Hub receive time of the result minus the frame's capture time, ms.")
    age_ms: float = Field(0.0, description="Hub time now minus when the hub received this result, ms.")
    stale: bool = Field(False, description="No newer result for `analysis_stale_after_s` (default 2 s): "
                                           "the camera's worker stopped or fell behind.")


# -- sets ------------------------------------------------------------------------------------------
class SetFault(Fault):
    threshold: float | None = Field(None, allow_inf_nan=False, description="The check's threshold, in `unit`.")
    unit: str | None = Field(None, max_length=16, description="Unit of value and threshold, e.g. `deg`.")
    rep: int = Field(0, ge=0, le=100_000, description="1-based rep in the set (0: not tied to a rep).")
    reference_value: float | None = Field(None, allow_inf_nan=False,
                                          description="The reference rep's value of the same measure, in `unit`.")


_Deg = Annotated[float, Field(ge=0, le=360)]
_JointDeg = dict[Annotated[str, Field(max_length=32)], _Deg]


class SetRep(_Wire):
    rep: int = Field(ge=1, le=100_000, description="1-based rep number within the set.")
    start_seq: int = Field(ge=0)
    bottom_seq: int = Field(ge=0)
    end_seq: int = Field(ge=0)
    start_time_ns: int | None = Field(None, ge=0, description="Capture time of the rep's first frame, ns.")
    end_time_ns: int | None = Field(None, ge=0, description="Capture time of the rep's last frame, ns.")
    duration_s: float | None = Field(None, ge=0, le=600)
    min_knee_deg: float | None = Field(None, ge=0, le=360, description="Smallest knee angle of the rep, degrees.")
    min_hip_height: float | None = Field(None, ge=-1, le=2, description="Lowest hip height, in leg lengths.")
    score: float | None = Field(None, ge=0, le=100, description="Rep score, 0-100 (analysis/scoring.py).")
    reference: str | None = Field(None, max_length=64, description="Reference the rep was compared with.")
    criteria: dict[Annotated[str, Field(max_length=48)], Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict, description="The score's form terms, 0-1 per check (1: sound).")
    deviation_deg: _JointDeg | None = Field(None, description="Mean |user - reference| per joint over the DTW path.")
    bottom_deviation_deg: _JointDeg | None = Field(None, description="Per-joint deviation at the bottom.")
    faults: list[SetFault] = Field(default_factory=list, max_length=32)
    view: Literal["front", "side", "oblique", "unknown"] = "unknown"


class SetIn(_Wire):
    """One camera's set (a run of reps), open while it runs and closed when it ends (analysis.sets)."""

    set_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="Worker-chosen id (uuid4 hex); PUTs are idempotent.")
    status: Literal["open", "closed"]
    end_reason: Literal["rest", "source_restart", "camera_stale", "worker_stopped"] | None = None
    started_at_ns: int = Field(ge=0, le=2**63 - 1, description="Capture time the first rep started, ns.")
    ended_at_ns: int = Field(ge=0, le=2**63 - 1, description="Capture time of the last analysed frame, ns.")
    reference: str | None = Field(None, max_length=64, description="Reference the reps were scored against.")
    view: Literal["front", "side", "oblique", "unknown"] = "unknown"
    reps: int = Field(ge=0, le=100_000)
    mean_score: float | None = Field(None, ge=0, le=100)
    reps_detail: list[SetRep] = Field(default_factory=list, max_length=1000)
    faults: list[SetFault] = Field(default_factory=list, max_length=5000)
    gaze: GazeSetOut | None = Field(None, description="Gaze over the set: attention, blinks, head pitch.")


class SetOut(SetIn):
    camera_id: str
    saved_at: str | None = Field(None, description="When the hub stored the closed set (ISO 8601, UTC).")


class SetPutOut(SetOut):
    persisted: bool = Field(description="False while the closed set could not be written; the hub retries.")
    persist_error: str | None = None


class SetList(_Wire):
    sets: list[SetOut]
    unsaved: int = Field(ge=0, description="Closed sets held in memory because the database refused them.")
    persist_error: str | None = Field(
        None, description="Why the database refused them (e.g. disk full, locked); null when all are saved.")


class ReferenceChoice(_Wire):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Reference name in the library.")
