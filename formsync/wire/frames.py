"""Frames and cameras: what a camera uploads with each frame, what the hub stores about it, the
camera list, the clock exchange, and a frame read back from the hub (docs/api.md, *Ingest*,
*Clock*, *Reading*).

Times are ns since the Unix epoch on the hub's clock unless a name says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from formsync.ids import CameraIdField
from formsync.wire.base import I64_MAX, Count, Seq, SignedMs, TimeNs, Wire
from formsync.wire.errors import ErrorDetail

# HTTP headers of a frame, on an upload (camera -> hub) and on a JPEG answer (hub -> reader).
CAPTURE_TIME_HEADER = "X-Capture-Time-Ns"
SEQ_HEADER = "X-Frame-Seq"
SOURCE_FRAME_HEADER = "X-Source-Frame"
CLOCK_OFFSET_HEADER = "X-Clock-Offset-Ns"
CLOCK_UNCERTAINTY_HEADER = "X-Clock-Uncertainty-Ns"
CAMERA_FPS_HEADER = "X-Camera-Fps"
HUB_RECEIVE_TIME_HEADER = "X-Hub-Receive-Time-Ns"
WIDTH_HEADER = "X-Frame-Width"
HEIGHT_HEADER = "X-Frame-Height"

CLOCK_OFFSET_MAX_NS = 2**62
"""Bound on a declared clock offset or its uncertainty, ns (~146 years: any real clock)."""
MIN_FPS, MAX_FPS = 0.1, 240.0
"""Frame rates a camera may declare, frames/s."""

Pixels = Field(ge=1, le=65_535, description="Pixels (a JPEG's largest dimension is 65535).")


class FrameMeta(Wire):
    """One stored frame, as the hub answers an upload and lists a synchronised set."""

    camera_id: CameraIdField
    seq: Seq = Field(description="Per-camera sequence number: from 0, +1 per captured frame.")
    capture_time_ns: TimeNs = Field(description="Capture time (hub clock once the camera synchronised), ns.")
    hub_receive_time_ns: TimeNs = Field(description="When the hub received the frame, ns.")
    source_frame: int | None = Field(None, ge=0, le=I64_MAX,
                                     description="Frame index in the source video (file sources), else null.")
    width: int = Pixels
    height: int = Pixels
    bytes: int = Field(ge=1, le=2**31, description="JPEG size, bytes.")
    clock_offset_ns: int | None = Field(None, ge=-CLOCK_OFFSET_MAX_NS, le=CLOCK_OFFSET_MAX_NS,
                                        description="Hub minus camera clock, as the camera estimated it, ns.")
    clock_uncertainty_ns: int | None = Field(None, ge=0, le=CLOCK_OFFSET_MAX_NS,
                                             description="Bound on that estimate's error (half the best "
                                                         "round trip), ns.")


class QualityTarget(Wire):
    """What one camera should send now (adaptive quality, docs/api.md): carried by every upload
    answer and obeyed from the camera's next frame. A camera never exceeds its own configured rate,
    width or quality: a target only lowers them. The policy: ``server/quality/policy.py``."""

    tier: int = Field(ge=0, le=64, description="Index in the hub's tier table, 0 = best.")
    fps: float = Field(ge=MIN_FPS, le=MAX_FPS, description="Frames per second to send at most.")
    width: int = Field(ge=16, le=8192, description="Widest frame to send, px (narrower ones are not upscaled).")
    jpeg_quality: int = Field(ge=1, le=100, description="JPEG quality to encode at, 1-100.")
    reason: str = Field(max_length=200, description="Why the hub chose it, e.g. `analysis behind: 31 % of "
                                                    "frames skipped` or `headroom`.")
    since_ns: TimeNs = Field(description="When the hub last changed this camera's target, ns.")


class CameraOut(Wire):
    """One camera as the hub sees it (``GET /api/v1/cameras``)."""

    camera_id: CameraIdField
    online: bool = Field(description="False once no frame arrived for `stale_after_s` (default 2 s).")
    # Up to one frame per ns of capture time: the hub estimates what cameras stamp, it does not vouch.
    fps: float = Field(ge=0, le=1e12, description="Capture rate estimated from the ring's capture times, "
                                                  "frames/s.")
    seq: Seq = Field(description="Sequence number of the newest frame.")
    last_capture_time_ns: TimeNs = Field(description="Capture time of the newest frame, ns.")
    age_ms: SignedMs = Field(description="Hub time when listed minus the newest capture time, ms "
                                         "(negative for a capture time slightly ahead of the hub's clock).")
    width: int = Pixels
    height: int = Pixels
    frames_total: Count = Field(description="Frames accepted since the hub started.")
    gaps: Count = Field(description="Frames missing by sequence number.")
    clock_offset_ms: SignedMs | None = Field(None, description="Hub minus camera clock (camera's estimate), "
                                                               "ms; null when the camera sent none.")
    clock_uncertainty_ms: float | None = Field(None, ge=0, le=1e13,
                                               description="Bound on the offset's error (as declared), ms.")
    quality: QualityTarget | None = Field(None, description="The target this hub gives the camera; null with "
                                                            "adaptive quality off or when it uploads to another hub.")


class CamerasOut(Wire):
    cameras: list[CameraOut] = Field(max_length=10_000, description="Every camera the hub knows, sorted by id.")


class StreamHeader(Wire):
    """JSON header of one WebSocket ingest message (the same fields as the upload headers)."""

    seq: Seq = Field(description="Per-camera sequence number.")
    capture_time_ns: TimeNs = Field(description="Capture time, ns.")
    source_frame: int | None = Field(None, ge=0, le=I64_MAX, description="Frame index in the source video.")
    clock_offset_ns: int | None = Field(None, ge=-CLOCK_OFFSET_MAX_NS, le=CLOCK_OFFSET_MAX_NS,
                                        description="Hub minus camera clock (camera's estimate), ns.")
    clock_uncertainty_ns: int | None = Field(None, ge=0, le=CLOCK_OFFSET_MAX_NS,
                                             description="Bound on the offset's error, ns.")
    fps: float | None = Field(None, ge=MIN_FPS, le=MAX_FPS,
                              description="The camera's frame rate; its upload limit is 2x this (server/limits.py).")


class UploadOut(FrameMeta):
    """``POST /api/v1/cameras/{id}/frames`` answer: the stored frame and the camera's target."""

    target: QualityTarget | None = Field(None, description="What to send from the next frame on; null with "
                                                           "adaptive quality off.")


class StreamAck(Wire):
    """The hub's answer to one WebSocket ingest message: ``ok`` with the stored seq, or the error."""

    ok: bool = Field(description="True when the frame was stored.")
    seq: Seq | None = Field(None, description="Seq of the stored frame (ok only).")
    hub_receive_time_ns: TimeNs | None = Field(None, description="When the hub received it, ns (ok only).")
    status: int | None = Field(None, ge=400, le=599, description="The HTTP status an upload would have got "
                                                                  "(refusals only).")
    error: ErrorDetail | None = Field(None, description="Why the frame was refused (refusals only).")
    target: QualityTarget | None = Field(None, description="As in the HTTP upload answer (ok only).")


class TimeOut(Wire):
    """Hub stamps of one NTP four-timestamp exchange (RFC 5905 t1, t2), ns."""

    receive_time_ns: TimeNs = Field(description="t1: when the hub received the request, ns.")
    send_time_ns: TimeNs = Field(description="t2: when the hub sent the answer, ns.")


class TimeRequest(Wire):
    """A clock exchange over the camera's ingest WebSocket (a text message)."""

    type: Literal["time"] = Field("time", description="Always `time`.")
    t0: TimeNs = Field(description="The camera's send time, its own clock, ns.")


class TimeReply(TimeRequest):
    t1: TimeNs = Field(description="Hub receive time, ns.")
    t2: TimeNs = Field(description="Hub send time, ns.")


class HealthOut(Wire):
    status: Literal["ok"] = Field(description="Always `ok` while the hub answers.")
    cameras: Count = Field(description="Cameras the hub knows.")


@dataclass(frozen=True, slots=True)
class FrameImage:
    """A frame read from the hub (``GET .../frame`` or ``.../frames/{seq}``): its JPEG and the
    metadata the hub sends in X- headers. ``fetched_time_ns``: when the reader had it (its clock)."""

    camera_id: str
    seq: int
    capture_time_ns: int
    hub_receive_time_ns: int
    width: int
    height: int
    source_frame: int | None
    jpeg: bytes
    fetched_time_ns: int

    @classmethod
    def from_response(cls, camera_id: str, headers: Mapping[str, str], jpeg: bytes,
                      fetched_time_ns: int) -> FrameImage:
        """Raises KeyError or ValueError when a header is missing or not an integer."""
        source = headers.get(SOURCE_FRAME_HEADER)
        return cls(camera_id=camera_id, seq=int(headers[SEQ_HEADER]),
                   capture_time_ns=int(headers[CAPTURE_TIME_HEADER]),
                   hub_receive_time_ns=int(headers[HUB_RECEIVE_TIME_HEADER]),
                   width=int(headers[WIDTH_HEADER]), height=int(headers[HEIGHT_HEADER]),
                   source_frame=int(source) if source is not None else None,
                   jpeg=jpeg, fetched_time_ns=fetched_time_ns)


def frame_headers(frame: Any) -> dict[str, str]:
    """The X- headers of a JPEG answer for ``frame`` (anything with ``FrameImage``'s metadata
    attributes, e.g. the hub's stored frame)."""
    headers = {
        SEQ_HEADER: str(frame.seq),
        CAPTURE_TIME_HEADER: str(frame.capture_time_ns),
        HUB_RECEIVE_TIME_HEADER: str(frame.hub_receive_time_ns),
        WIDTH_HEADER: str(frame.width),
        HEIGHT_HEADER: str(frame.height),
    }
    if frame.source_frame is not None:
        headers[SOURCE_FRAME_HEADER] = str(frame.source_frame)
    return headers
