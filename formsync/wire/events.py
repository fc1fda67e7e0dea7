"""Events the hub sends on ``WS /api/v1/events`` (docs/api.md, *Events*): one JSON text message
each, told apart by ``type``. The hub builds every event from these models; readers (analysis
workers, the dashboard's pollers) parse them with ``parse_event``, which refuses a malformed event
whole, so it is never half-handled."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, TypeAdapter, ValidationError

from formsync.ids import CameraIdField
from formsync.wire.base import Ms, Score, Seq, SignedMs, TimeNs, Wire
from formsync.wire.gaze import GazeCalibrateOut
from formsync.wire.monitoring import PROCESS_ID_PATTERN, AlertLevel, Role
from formsync.wire.references import ContentHash, ReferenceJob, ReferenceName, WorkerId
from formsync.wire.sets import SET_ID_PATTERN

_ProcessId = Annotated[str, Field(pattern=PROCESS_ID_PATTERN, description="The process's id (heartbeats).")]


class FrameEvent(Wire):
    """A camera's frame was stored: its newest frame changed."""

    type: Literal["frame"] = Field("frame", description="Event type.")
    camera_id: CameraIdField
    seq: Seq = Field(description="The frame's seq.")
    capture_time_ns: TimeNs = Field(description="Its capture time, ns.")
    hub_receive_time_ns: TimeNs = Field(description="When the hub received it, ns.")
    source_frame: int | None = Field(None, ge=0, le=2**63 - 1, description="Its frame index in the source video.")


class CameraOnlineEvent(Wire):
    """A camera's first frame, or its first since it went stale."""

    type: Literal["camera_online"] = Field("camera_online", description="Event type.")
    camera_id: CameraIdField
    time_ns: TimeNs = Field(description="Hub time of that frame's arrival, ns.")


class CameraStaleEvent(Wire):
    """No frame from the camera for the hub's ``stale_after_s``: its set ends."""

    type: Literal["camera_stale"] = Field("camera_stale", description="Event type.")
    camera_id: CameraIdField
    time_ns: TimeNs = Field(description="Hub time the camera turned stale, ns.")


class SyncFrame(Wire):
    camera_id: CameraIdField
    seq: Seq = Field(description="The frame's seq.")
    capture_time_ns: TimeNs = Field(description="Its capture time, ns.")
    source_frame: int | None = Field(None, ge=0, le=2**63 - 1, description="Its frame index in the source video.")


class SyncSetEvent(Wire):
    """The online cameras' newest synchronised set (``GET /api/v1/frames/sync`` has its metadata)."""

    type: Literal["sync_set"] = Field("sync_set", description="Event type.")
    spread_ms: Ms = Field(description="Newest minus oldest capture time in the set, ms.")
    frames: list[SyncFrame] = Field(min_length=2, max_length=10_000, description="One frame per camera.")


class AnalysisEvent(Wire):
    """A worker posted a camera's result (read it with ``GET .../analysis``)."""

    type: Literal["analysis"] = Field("analysis", description="Event type.")
    camera_id: CameraIdField
    seq: Seq = Field(description="Seq of the analysed frame.")
    capture_time_ns: TimeNs = Field(description="Its capture time, ns.")
    score: Score | None = Field(None, description="Similarity to the reference, 0-100.")
    reps: int = Field(ge=0, le=100_000, description="Reps counted in the camera's set.")
    latency_ms: SignedMs = Field(description="Result at the hub minus frame capture, ms.")
    processing_ms: Ms = Field(description="Worker time spent on the frame, ms.")


class SetEvent(Wire):
    """A worker reported a camera's set (read it with ``GET .../set``)."""

    type: Literal["set"] = Field("set", description="Event type.")
    camera_id: CameraIdField
    set_id: str = Field(pattern=SET_ID_PATTERN, description="The set's id.")
    status: Literal["open", "closed"] = Field(description="`open` while reps may follow, `closed` once ended.")
    reps: int = Field(ge=0, le=100_000, description="Reps in the set.")
    mean_score: Score | None = Field(None, description="Mean rep score, 0-100.")
    persisted: bool = Field(description="False while a closed set waits for the database.")


class ReferenceEvent(Wire):
    """A reference was chosen, or stored (new, or rebuilt under its name: a new content hash)."""

    type: Literal["reference"] = Field("reference", description="Event type.")
    change: Literal["chosen", "stored"] = Field(description="`chosen` by the operator, or `stored` by a worker.")
    name: ReferenceName = Field(description="The reference chosen or stored.")
    content_hash: ContentHash = Field(description="Its content hash (the version now stored).")
    chosen: str | None = Field(None, max_length=64, description="The chosen reference after the change "
                                                                "(null: the default of each view).")


class ReferenceJobEvent(Wire):
    """A reference build job was queued, taken, made progress, finished or failed."""

    type: Literal["reference_job"] = Field("reference_job", description="Event type.")
    job: ReferenceJob = Field(description="The job as it is now.")


class LeaseEvent(Wire):
    """A worker was granted a camera's lease (it analyses the camera from now on) or released it."""

    type: Literal["lease"] = Field("lease", description="Event type.")
    camera_id: CameraIdField
    worker_id: WorkerId = Field(description="The worker granted or releasing the lease.")
    change: Literal["granted", "released"] = Field(description="What happened.")
    taken_over_from: WorkerId | None = Field(None, description="Granted from a worker that died holding it.")


class AnalysisStaleEvent(Wire):
    """A camera's results stopped: no new one for ``analysis_stale_after_s``. Sent once; the
    camera's next ``analysis`` event means fresh again."""

    type: Literal["analysis_stale"] = Field("analysis_stale", description="Event type.")
    camera_id: CameraIdField
    last_result_ns: TimeNs = Field(description="Hub time the last result arrived, ns.")
    time_ns: TimeNs = Field(description="Hub time it turned stale, ns.")


class GazeCalibrateEvent(Wire):
    """Start (or reset) a camera's gaze calibration: for the worker analysing that camera."""

    type: Literal["gaze_calibrate"] = Field("gaze_calibrate", description="Event type.")
    camera_id: CameraIdField
    action: Literal["start", "reset"] = Field(description="`start` a calibration or `reset` the target.")
    request_id: str = GazeCalibrateOut.model_fields["request_id"]
    duration_s: float | None = GazeCalibrateOut.model_fields["duration_s"]
    requested_at_ns: TimeNs = Field(description="When the hub passed the request on, ns.")


class HeartbeatEvent(Wire):
    type: Literal["heartbeat"] = Field("heartbeat", description="Event type.")
    process_id: _ProcessId
    role: Role = Field(description="What the process is.")
    lost: bool = Field(False, description="Always false: a heartbeat means alive.")
    time_ns: TimeNs = Field(description="Hub time the heartbeat arrived, ns.")


class ProcessLostEvent(Wire):
    """A process missed 3 heartbeat intervals."""

    type: Literal["process_lost"] = Field("process_lost", description="Event type.")
    process_id: _ProcessId
    role: Role = Field(description="What the process is.")
    time_ns: TimeNs = Field(description="Hub time it was marked lost, ns.")


class ProcessOnlineEvent(Wire):
    """A process's first heartbeat, or its first since it was lost."""

    type: Literal["process_online"] = Field("process_online", description="Event type.")
    process_id: _ProcessId
    role: Role = Field(description="What the process is.")
    time_ns: TimeNs = Field(description="Hub time of that heartbeat, ns.")


class AlertEvent(Wire):
    """An alert fired or cleared (``GET /api/v1/alerts`` has the log)."""

    type: Literal["alert"] = Field("alert", description="Event type.")
    state: Literal["firing", "cleared"] = Field(description="What happened.")
    rule: str = Field(max_length=64, description="The rule.")
    subject: str = Field(max_length=255, description="Host, camera, process or `hub`.")
    level: AlertLevel = Field(description="How bad it is.")
    value: float | None = Field(None, ge=-1e15, le=1e15, description="The metric's value, in its unit.")
    message: str = Field(max_length=1000, description="What happened, for a person.")
    time_ns: TimeNs = Field(description="When it fired or cleared, ns.")


_EVENTS = (FrameEvent, CameraOnlineEvent, CameraStaleEvent, SyncSetEvent, AnalysisEvent, SetEvent,
           ReferenceEvent, ReferenceJobEvent, LeaseEvent, AnalysisStaleEvent, GazeCalibrateEvent, HeartbeatEvent,
           ProcessLostEvent, ProcessOnlineEvent, AlertEvent)
Event = Annotated[FrameEvent | CameraOnlineEvent | CameraStaleEvent | SyncSetEvent | AnalysisEvent | SetEvent
                  | ReferenceEvent | ReferenceJobEvent | LeaseEvent | AnalysisStaleEvent | GazeCalibrateEvent
                  | HeartbeatEvent | ProcessLostEvent | ProcessOnlineEvent | AlertEvent, Field(discriminator="type")]
EVENT_TYPES: frozenset[str] = frozenset(get_args(m.model_fields["type"].annotation)[0] for m in _EVENTS)
"""Every ``type`` the hub sends; ``?types=`` on ``WS /api/v1/events`` takes a comma-separated subset."""

_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


class UnknownEventType(ValueError):
    """An event of a ``type`` this reader does not know (a newer hub's): skip it."""


def parse_event(text: str | bytes) -> Event:
    """One event message (a JSON object) as its model; fields the model does not know are ignored.

    Raises ``UnknownEventType`` for a ``type`` not in ``EVENT_TYPES`` and ``ValueError``
    (pydantic's ``ValidationError``) when the text is not JSON or a field is missing or malformed.
    """
    try:
        return _ADAPTER.validate_json(text, extra="ignore")
    except ValidationError as exc:
        if any(e["type"] == "union_tag_invalid" for e in exc.errors()):
            raise UnknownEventType(f"unknown event type in {str(text)[:100]}") from None
        raise


def event_json(event: Wire) -> dict:
    """An event as the JSON-ready dict the hub's event bus carries."""
    return event.model_dump(mode="json")



