"""The latest-frame store: the newest JPEG per camera plus a short ring for synchronisation.

``FrameStore`` is the interface the routes use; ``InMemoryFrameStore`` is the one-machine
implementation, ``server.shared_state.frames.RedisFrameStore`` the one several hub processes share.
The interface is async so that a shared store never blocks the hub's event loop.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Frame:
    """One stored frame. Immutable, so a reader holding a reference can never see it torn.

    Times are integer nanoseconds since the Unix epoch; ``width``/``height`` in pixels.
    """

    camera_id: str
    seq: int
    capture_time_ns: int
    hub_receive_time_ns: int
    jpeg: bytes
    width: int
    height: int
    source_frame: int | None = None
    clock_offset_ns: int | None = None  # hub minus camera clock, as the camera estimated it
    clock_uncertainty_ns: int | None = None  # bound on that estimate's error (half its round trip)

    @property
    def bytes(self) -> int:
        return len(self.jpeg)

    def meta(self) -> dict:
        """Metadata as JSON-ready dict (the API's ``FrameMeta``)."""
        return {
            "camera_id": self.camera_id,
            "seq": self.seq,
            "capture_time_ns": self.capture_time_ns,
            "hub_receive_time_ns": self.hub_receive_time_ns,
            "source_frame": self.source_frame,
            "width": self.width,
            "height": self.height,
            "bytes": len(self.jpeg),
            "clock_offset_ns": self.clock_offset_ns,
            "clock_uncertainty_ns": self.clock_uncertainty_ns,
        }


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """A camera as ``GET /api/v1/cameras`` reports it.

    ``fps`` is estimated from the capture times in the ring (frames per second of capture time,
    0.0 with fewer than two frames); ``gaps`` counts frames missing by sequence number.
    """

    camera_id: str
    seq: int
    last_capture_time_ns: int
    last_receive_time_ns: int
    width: int
    height: int
    fps: float
    frames_total: int
    gaps: int
    clock_offset_ns: int | None = None
    clock_uncertainty_ns: int | None = None


@dataclass(frozen=True, slots=True)
class PutResult:
    """What a ``put`` changed: ``is_new_stream`` when the camera was unknown or its seq restarted;
    ``announced`` when the store published the frame's ``frame`` event itself, with the frame (a
    shared store on the events' server), so the caller must not publish it again."""

    frame: Frame
    is_new_camera: bool
    is_new_stream: bool
    announced: bool = False


class FrameStore(Protocol):
    """What the hub needs from a frame store; every method runs on the hub's event loop.

    ``put`` keeps the newest frame per camera and a ring of the frames whose capture time is within
    ``ring_seconds`` of it (dropped oldest first, at most ``ring_max_frames``); a seq at or below the
    camera's last starts a new stream (the ring is emptied). A shared implementation raises
    ``redis.exceptions.ConnectionError``/``TimeoutError`` when its server cannot be reached.
    """

    async def put(self, frame: Frame) -> PutResult: ...

    async def latest(self, camera_id: str) -> Frame | None: ...

    async def ring(self, camera_id: str) -> tuple[Frame, ...]: ...

    async def frame(self, camera_id: str, seq: int) -> Frame | None: ...

    async def cameras(self) -> list[CameraStatus]: ...


@dataclass(slots=True)
class _CameraSlot:
    latest: Frame
    ring: deque = field(default_factory=deque)
    frames_total: int = 0
    gaps: int = 0


class InMemoryFrameStore:
    """Thread-safe latest-frame store for one hub process.

    Nothing awaits inside its methods. The lock guards only reference swaps and counters: frames
    are immutable, so readers get the stored object itself, and any decoding or copying happens
    outside the lock.

    Args:
        ring_seconds: keep frames whose capture time is within this many seconds of the newest.
        ring_max_frames: hard cap on ring length, whatever the fps.
    """

    def __init__(self, ring_seconds: float = 1.0, ring_max_frames: int = 256) -> None:
        if ring_seconds <= 0 or ring_max_frames < 2:
            raise ValueError("ring_seconds must be > 0 and ring_max_frames >= 2")
        self._ring_ns = int(ring_seconds * 1e9)
        self._ring_max = ring_max_frames
        self._lock = threading.Lock()
        self._slots: dict[str, _CameraSlot] = {}

    async def put(self, frame: Frame) -> PutResult:
        with self._lock:
            slot = self._slots.get(frame.camera_id)
            if slot is None:
                slot = _CameraSlot(latest=frame, ring=deque(maxlen=self._ring_max))
                self._slots[frame.camera_id] = slot
                new_camera = new_stream = True
            else:
                expected = slot.latest.seq + 1
                # A seq at or below the last one means the client restarted its count:
                # a new stream, not a gap of billions of frames.
                new_stream = frame.seq < expected
                if new_stream:
                    slot.ring.clear()
                elif frame.seq > expected:
                    slot.gaps += frame.seq - expected
                new_camera = False
            slot.latest = frame
            slot.frames_total += 1
            ring = slot.ring
            ring.append(frame)
            horizon = frame.capture_time_ns - self._ring_ns
            while len(ring) > 1 and ring[0].capture_time_ns < horizon:
                ring.popleft()
        return PutResult(frame=frame, is_new_camera=new_camera, is_new_stream=new_stream)

    async def latest(self, camera_id: str) -> Frame | None:
        with self._lock:
            slot = self._slots.get(camera_id)
            return slot.latest if slot else None

    async def ring(self, camera_id: str) -> tuple[Frame, ...]:
        """Frames of the last ``ring_seconds``, oldest first (a snapshot of references)."""
        with self._lock:
            slot = self._slots.get(camera_id)
            return tuple(slot.ring) if slot else ()

    async def frame(self, camera_id: str, seq: int) -> Frame | None:
        """The frame with this seq if still in the ring (the ring is short: a linear scan)."""
        for f in reversed(await self.ring(camera_id)):
            if f.seq == seq:
                return f
        return None

    async def cameras(self) -> list[CameraStatus]:
        with self._lock:
            snapshot = [
                (cid, s.latest, s.ring[0], len(s.ring), s.frames_total, s.gaps)
                for cid, s in self._slots.items()
            ]
        return [camera_status(cid, last, first.capture_time_ns, n, total, gaps)
                for cid, last, first, n, total, gaps in sorted(snapshot, key=lambda r: r[0])]


def camera_status(camera_id: str, last: Frame, first_capture_ns: int, ring_len: int, frames_total: int,
                  gaps: int) -> CameraStatus:
    """A camera's status from its newest frame and its ring's oldest capture time and length."""
    span_s = (last.capture_time_ns - first_capture_ns) / 1e9
    fps = (ring_len - 1) / span_s if ring_len > 1 and span_s > 0 else 0.0
    return CameraStatus(
        camera_id=camera_id, seq=last.seq, last_capture_time_ns=last.capture_time_ns,
        last_receive_time_ns=last.hub_receive_time_ns, width=last.width, height=last.height, fps=fps,
        frames_total=frames_total, gaps=gaps, clock_offset_ns=last.clock_offset_ns,
        clock_uncertainty_ns=last.clock_uncertainty_ns,
    )


def now_ns() -> int:
    return time.time_ns()
