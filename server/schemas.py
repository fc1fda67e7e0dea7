"""Wire models of the hub API, for validation and the OpenAPI schema."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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


class CamerasOut(_Wire):
    cameras: list[CameraOut]


class SyncSetOut(_Wire):
    spread_ms: float = Field(ge=0, description="Newest minus oldest capture time in the set, ms.")
    frames: list[FrameMeta]


class StreamHeader(_Wire):
    """JSON header of one WebSocket ingest message."""

    seq: int = Field(ge=0, le=2**63 - 1)
    capture_time_ns: int = Field(ge=0, le=2**63 - 1)
    source_frame: int | None = Field(None, ge=0, le=2**63 - 1)


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
