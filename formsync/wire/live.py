"""Live view: the hub streaming cameras' newest frames and synchronised sets to browsers
(``WS /api/v1/live/stream``, docs/api.md#live-view).

The browser authenticates with a short-lived display token (``POST /api/v1/live/tokens``, minted
with the dashboard's viewer token) sent as the socket's first message, so no token travels in a URL.
Frames arrive as binary messages ``len(4, big-endian) | JSON header | JPEG bytes``: a
``LiveFrameHeader`` followed by one JPEG, or a ``LiveSyncHeader`` followed by its frames' JPEGs
one after another (each ``bytes`` long, in the header's order).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from formsync.ids import CameraIdField
from formsync.wire.base import Count, Ms, Seq, TimeNs, Wire

MAX_LIVE_CAMERAS = 32
"""Most cameras one live socket may watch."""


class DisplayTokenOut(Wire):
    """``POST /api/v1/live/tokens``: a token a browser may open live sockets with until it expires."""

    token: str = Field(min_length=16, max_length=512, description="Signed display token (opaque).")
    expires_time_ns: TimeNs = Field(description="When the hub stops accepting it for new sockets, hub clock, ns.")
    ttl_s: float = Field(gt=0, le=86_400, description="Its lifetime from minting, s.")


class LiveWatch(Wire):
    """What a live socket shows; sent by the browser as ``{"type": "hello", "token", ...}`` first and
    ``{"type": "watch", ...}`` to change it later."""

    type: Literal["hello", "watch"] = Field(description="`hello` first (with the token), `watch` after.")
    token: str | None = Field(None, max_length=512, description="The display token (`hello` only).")
    cameras: list[CameraIdField] = Field(
        default_factory=list, max_length=MAX_LIVE_CAMERAS, description="Cameras whose newest frame to send.")
    sync: bool = Field(False, description="Also send each new synchronised set of the online cameras.")
    analysis: bool = Field(False, description="Also send the watched cameras' analysis results (overlays).")


class LiveReady(Wire):
    """The hub's answer to a valid ``hello``."""

    type: Literal["ready"] = "ready"
    viewer_id: str = Field(min_length=1, max_length=64, description="This socket's id in `GET /live/viewers`.")
    expires_time_ns: TimeNs = Field(description="The token's expiry; an open socket outlives it.")


class LiveFrameHeader(Wire):
    """Header of one camera's newest frame."""

    kind: Literal["frame"] = "frame"
    camera_id: CameraIdField
    seq: Seq
    capture_time_ns: TimeNs = Field(description="Capture time on the hub's clock, ns.")
    hub_receive_time_ns: TimeNs
    width: int = Field(ge=1, le=65535, description="px")
    height: int = Field(ge=1, le=65535, description="px")
    dropped: Count = Field(description="Frames of this socket replaced before they were sent (slow viewer), so far.")


class LiveSyncFrame(Wire):
    camera_id: CameraIdField
    seq: Seq
    capture_time_ns: TimeNs = Field(description="Capture time on the hub's clock, ns.")
    width: int = Field(ge=1, le=65535, description="px")
    height: int = Field(ge=1, le=65535, description="px")
    bytes: int = Field(ge=1, description="Length of its JPEG in the message, bytes.")


class LiveSyncHeader(Wire):
    """Header of one synchronised set: one frame per online camera, of the same moment."""

    kind: Literal["sync"] = "sync"
    spread_ms: Ms = Field(description="Newest minus oldest capture time in the set, ms.")
    frames: list[LiveSyncFrame] = Field(min_length=2, max_length=MAX_LIVE_CAMERAS)
    dropped: Count = Field(description="Sets of this socket replaced before they were sent, so far.")


class LiveViewerOut(Wire):
    viewer_id: str
    cameras: list[CameraIdField]
    sync: bool
    analysis: bool
    connected_time_ns: TimeNs
    sent: Count = Field(description="Frames and sets sent.")
    dropped: Count = Field(description="Frames and sets replaced by newer ones before they could be sent.")


class LiveViewersOut(Wire):
    """``GET /api/v1/live/viewers``: the open live sockets."""

    viewers: list[LiveViewerOut]
