"""What the dashboard knows about the hub: its cameras, frames, synchronised set and connection.

All immutable, so the poller thread can hand a snapshot to page threads by reference.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field


class _HubModel(BaseModel):
    # extra="ignore", unlike the hub's own strict models: a reader should keep working when the
    # hub adds a field (tolerant reader); the hub validates what it sends.
    model_config = ConfigDict(extra="ignore", frozen=True)


class CameraStatus(_HubModel):
    """One entry of ``GET /api/v1/cameras`` (docs/api.md)."""

    camera_id: str
    online: bool = Field(description="False once the hub got no frame for its stale delay (2 s).")
    fps: float = Field(ge=0, description="Capture rate estimated by the hub, frames/s.")
    seq: int = Field(ge=0)
    last_capture_time_ns: int = Field(ge=0, description="ns since the Unix epoch.")
    age_ms: float = Field(description="Hub time minus last capture time when listed, ms.")
    width: int = Field(ge=1, description="Pixels.")
    height: int = Field(ge=1, description="Pixels.")
    frames_total: int = Field(ge=0)
    gaps: int = Field(ge=0, description="Frames missing by sequence number.")
    # Optional: older hubs and clients that do not synchronise their clock leave them out (null).
    clock_offset_ms: float | None = Field(
        None, description="Hub minus camera clock, as the camera estimated it, ms.")
    clock_uncertainty_ms: float | None = Field(None, ge=0, description="Bound on that estimate's error, ms.")


class SyncFrame(_HubModel):
    """``FrameMeta`` of one frame in a synchronised set."""

    camera_id: str
    seq: int = Field(ge=0)
    capture_time_ns: int = Field(ge=0)
    hub_receive_time_ns: int = Field(ge=0)
    source_frame: int | None = None
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    bytes: int = Field(ge=1)
    clock_offset_ns: int | None = Field(
        None, description="Hub minus camera clock when captured, as the camera estimated it, ns.")
    clock_uncertainty_ns: int | None = Field(None, ge=0, description="Bound on that estimate's error, ns.")


class SyncSet(_HubModel):
    """``GET /api/v1/frames/sync``: one frame per camera, closest together in capture time."""

    spread_ms: float = Field(ge=0, description="Newest minus oldest capture time in the set, ms.")
    max_spread_ms: float | None = Field(
        None, gt=0, description="Largest spread the hub's synchroniser accepts, ms (absent from older hubs).")
    frames: tuple[SyncFrame, ...]

    @property
    def key(self) -> tuple[tuple[str, int, int], ...]:
        """Identifies the set: ``(camera_id, seq, capture_time_ns)`` per frame (the capture time
        tells a restarted camera's seq 0 from the previous stream's)."""
        return tuple((f.camera_id, f.seq, f.capture_time_ns) for f in self.frames)

    @property
    def max_uncertainty_ms(self) -> float | None:
        """The largest clock uncertainty among the frames, ms; None when a frame's camera did
        not report its clock offset (its capture time is then on its own, unsynchronised clock)."""
        if any(f.clock_offset_ns is None or f.clock_uncertainty_ns is None for f in self.frames):
            return None
        return max((f.clock_uncertainty_ns for f in self.frames), default=0) / 1e6


@dataclass(frozen=True, slots=True)
class FrameImage:
    """A frame as fetched from ``GET /api/v1/cameras/{id}/frame`` (the latest) or
    ``.../frames/{seq}`` (one of a synchronised set).

    Times are ns since the Unix epoch; ``jpeg`` is the encoded image as the hub stored it.
    """

    camera_id: str
    seq: int
    capture_time_ns: int
    hub_receive_time_ns: int
    width: int
    height: int
    source_frame: int | None
    jpeg: bytes
    fetched_time_ns: int


class SyncedImages(NamedTuple):
    """A synchronised set together with every one of its images, fetched by seq: what the
    page shows as "the same moment from every camera". ``images`` is keyed by camera id and
    read-only."""

    sync_set: SyncSet
    images: Mapping[str, FrameImage]


class LinkState(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class HubConnection:
    """The poller's link to the hub.

    ``since_ns`` is when it entered ``state`` (ns since the epoch); ``last_error`` describes the
    failure that made it unreachable; ``attempts`` counts failed attempts since it last connected.
    """

    hub_url: str
    state: LinkState
    since_ns: int
    last_error: str | None = None
    attempts: int = 0

    @property
    def connected(self) -> bool:
        return self.state is LinkState.CONNECTED
