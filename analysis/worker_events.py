"""The hub events an analysis worker follows (``GET /api/v1/events``, docs/api.md), read strictly
enough that a malformed one is refused as a whole instead of failing halfway through its handling.

Readers ignore fields they do not know (a newer hub may add some); a missing or ill-typed field the
worker needs, an unknown ``type`` or text that is not JSON raises ``ValueError``
(pydantic's ``ValidationError`` is one).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from formsync.ids import CAMERA_ID_PATTERN

WORKER_EVENT_TYPES = ("frame", "camera_stale", "reference", "gaze_calibrate")

_CameraId = Annotated[str, Field(pattern=CAMERA_ID_PATTERN)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class FrameEvent(_Event):
    """A camera's newest frame arrived at the hub."""

    type: Literal["frame"]
    camera_id: _CameraId


class CameraStaleEvent(_Event):
    """No frame from the camera for the hub's ``stale_after_s``: its set ends."""

    type: Literal["camera_stale"]
    camera_id: _CameraId


class ReferenceEvent(_Event):
    """The operator chose another reference (answer sheet)."""

    type: Literal["reference"]
    name: str = Field(min_length=1, max_length=64)


class GazeCalibrateEvent(_Event):
    """Start (or reset) a camera's gaze calibration (``server/routes/gaze.py``)."""

    type: Literal["gaze_calibrate"]
    camera_id: _CameraId
    action: Literal["start", "reset"] = "start"
    duration_s: float | None = Field(None, gt=0, le=60)
    request_id: str | None = Field(None, max_length=64)


WorkerEvent = Annotated[FrameEvent | CameraStaleEvent | ReferenceEvent | GazeCalibrateEvent,
                        Field(discriminator="type")]
_ADAPTER: TypeAdapter[WorkerEvent] = TypeAdapter(WorkerEvent)


def parse_event(text: str | bytes) -> WorkerEvent:
    """One event message as the hub sends it (a JSON object). Raises ValueError when malformed."""
    return _ADAPTER.validate_json(text)
