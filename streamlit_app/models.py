"""What the dashboard knows about the hub: its cameras, frames, synchronised set and connection.

All immutable, so the poller thread can hand a snapshot to page threads by reference.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from streamlit_app.gaze.models import GazeView


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


class FaultMomentView(_HubModel):
    start_time_ns: int
    end_time_ns: int
    peak_seq: int
    phase: str = Field(description="descent, bottom or ascent.")


class FaultView(_HubModel):
    code: str
    severity: str = Field(description="info, warning or critical.")
    cue: str = ""
    view: str | None = None
    value: float | None = None
    rep: int = 0
    confidence: str | None = Field(None, description="high, or low where the view rests on estimated depth.")
    moments: tuple[FaultMomentView, ...] = ()


class RepStateView(_HubModel):
    count: int = 0
    phase: str = "unknown"
    rep_scores: tuple[float, ...] = ()


class AnalysisView(_HubModel):
    """One ``GET /api/v1/cameras/{id}/analysis`` answer (docs/api.md): a frame's pose analysis."""

    camera_id: str
    seq: int
    capture_time_ns: int
    pose_found: bool
    landmarks: tuple[tuple[float, ...], ...] | None = Field(
        None, description="33 x [x, y, z, visibility]; x, y normalised to the image (0-1).")
    angles: dict[str, float] = Field(default_factory=dict, description="Joint angles, degrees.")
    view: str = "unknown"
    score: float | None = Field(None, description="Similarity to the reference, 0-100.")
    reference_seq: int | None = None
    reference: str | None = Field(None, description="Reference this frame was scored against.")
    rep: RepStateView = RepStateView()
    faults: tuple[FaultView, ...] = ()
    processing_ms: float = 0.0
    latency_ms: float = Field(0.0, description="Result at the hub minus frame capture, ms.")
    skipped_frames: int = 0
    gaze: GazeView | None = Field(None, description="Head pose, gaze and attention (null: gaze off).")
    stale: bool = Field(False, description="No newer result for the hub's analysis_stale_after_s (2 s).")


class SetRepView(_HubModel):
    rep: int
    start_time_ns: int | None = Field(None, description="Capture time of the rep's first frame (hub clock), ns.")
    end_time_ns: int | None = None
    view: str = "unknown"
    score: float | None = None
    reference: str | None = None
    criteria: dict[str, float] = Field(default_factory=dict, description="Form terms of the score, 0-1.")
    min_knee_deg: float | None = None
    duration_s: float | None = None
    deviation_deg: dict[str, float] | None = None
    faults: tuple[FaultView, ...] = ()


class SetView(_HubModel):
    """A set summary (``GET /api/v1/sets``, ``.../cameras/{id}/set``)."""

    set_id: str
    camera_id: str
    status: str
    end_reason: str | None = None
    started_at_ns: int
    ended_at_ns: int
    saved_at: str | None = None
    reference: str | None = None
    view: str = "unknown"
    reps: int = 0
    mean_score: float | None = None
    reps_detail: tuple[SetRepView, ...] = ()
    faults: tuple[FaultView, ...] = ()


@dataclass(frozen=True, slots=True)
class AnalysedFrame:
    """An analysis result with the very frame it was computed on (fetched by seq), so a skeleton
    is always drawn over its own image; ``image`` is None when that frame had left the ring.
    ``overlay_jpeg``: that image with the pose drawn on it (None without an image)."""

    analysis: AnalysisView
    image: FrameImage | None
    overlay_jpeg: bytes | None = None


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


class SetSaving(NamedTuple):
    """Closed sets the hub holds in memory because its database refused them (``GET /api/v1/sets``
    ``unsaved``, ``persist_error``): nothing is lost, they are written on the hub's next try."""

    unsaved: int = 0
    error: str | None = None


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
