"""Uploading frames to the hub: HTTP POST per frame (keep-alive) or one WebSocket per camera, both
through the hub client (``formsync.hub_client``), whose ``HubUnreachable`` (retry with backoff)
and ``HubRejected`` (this frame was refused) they raise."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from clients.capture import CapturedFrame
from clients.clock import TimeSample
from formsync.hub_client import FrameStream, HubClient, HubUnreachable
from formsync.wire.frames import QualityTarget, StreamHeader


@dataclass(frozen=True, slots=True)
class Stamp:
    """What an upload says about time: the capture time on the hub's clock and the estimate used."""

    capture_time_ns: int
    clock_offset_ns: int | None = None
    clock_uncertainty_ns: int | None = None


class NetDelay:
    """Testing aid (``--net-delay-ms``): a random one-way delay, uniform in [0, max_ms], applied
    to each direction of each exchange, so offset estimation meets asymmetric paths."""

    def __init__(self, max_ms: float = 0.0, rng: random.Random | None = None) -> None:
        self.max_s = max_ms / 1e3
        self.rng = rng or random.Random()

    async def __call__(self) -> None:
        if self.max_s > 0:
            await asyncio.sleep(self.rng.uniform(0, self.max_s))


class Transport(Protocol):
    async def send(self, frame: CapturedFrame, stamp: Stamp) -> QualityTarget | None:
        """Deliver one frame; returns the hub's quality target for the camera (None with adaptive
        quality off). Raises HubUnreachable or HubRejected."""

    async def time_sample(self, clock_ns: Callable[[], int]) -> TimeSample:
        """One NTP-style exchange with the hub; raises HubUnreachable or HubRejected (e.g. 401:
        a missing or refused token)."""

    async def close(self) -> None: ...


FpsGetter = Callable[[], "float | None"]
"""The camera's current frame rate (frames/s), declared to the hub with each upload (its upload
limit is a multiple of it, ``server/limits.py``); None while unknown."""


def _no_fps() -> float | None:
    return None


class HttpTransport:
    """``POST /api/v1/cameras/{id}/frames``, one request in flight, on the session's pooled
    keep-alive connection."""

    def __init__(self, hub: HubClient, camera_id: str, delay: NetDelay | None = None,
                 fps: FpsGetter = _no_fps) -> None:
        self.hub = hub
        self.camera_id = camera_id
        self.fps = fps
        self.delay = delay or NetDelay()

    async def time_sample(self, clock_ns: Callable[[], int]) -> TimeSample:
        t0 = clock_ns()
        await self.delay()
        out = await self.hub.hub_time()
        await self.delay()
        return TimeSample(t0, out.receive_time_ns, out.send_time_ns, clock_ns())

    async def send(self, frame: CapturedFrame, stamp: Stamp) -> QualityTarget | None:
        await self.delay()
        out = await self.hub.upload_frame(
            self.camera_id, frame.jpeg, seq=frame.seq, capture_time_ns=stamp.capture_time_ns,
            source_frame=frame.source_frame, clock_offset_ns=stamp.clock_offset_ns,
            clock_uncertainty_ns=stamp.clock_uncertainty_ns, fps=self.fps())
        return out.target

    async def close(self) -> None:
        pass


class WsTransport:
    """One WebSocket to ``/api/v1/cameras/{id}/stream``; waits for the hub's ack of each frame,
    so at most one frame is ever in flight (no backlog in socket buffers). A socket that fails is
    closed and the next call opens another."""

    def __init__(self, hub: HubClient, camera_id: str, timeout_s: float = 5.0, delay: NetDelay | None = None,
                 fps: FpsGetter = _no_fps) -> None:
        self.hub = hub
        self.camera_id = camera_id
        self.fps = fps
        self.timeout_s = timeout_s
        self.delay = delay or NetDelay()
        self._stream: FrameStream | None = None
        # One request/reply at a time on the socket: frames and time exchanges must not interleave.
        self._lock = asyncio.Lock()

    async def _socket(self) -> FrameStream:
        if self._stream is None or self._stream.closed:
            self._stream = await self.hub.open_stream(self.camera_id, self.timeout_s)
        return self._stream

    async def time_sample(self, clock_ns: Callable[[], int]) -> TimeSample:
        async with self._lock:
            try:
                stream = await self._socket()
                t0 = clock_ns()
                await self.delay()
                reply = await stream.time_exchange(t0)
                await self.delay()
                return TimeSample(t0, reply.t1, reply.t2, clock_ns())
            except HubUnreachable:
                await self.close()
                raise

    async def send(self, frame: CapturedFrame, stamp: Stamp) -> QualityTarget | None:
        fps = self.fps()
        header = StreamHeader(seq=frame.seq, capture_time_ns=stamp.capture_time_ns, source_frame=frame.source_frame,
                              clock_offset_ns=stamp.clock_offset_ns, clock_uncertainty_ns=stamp.clock_uncertainty_ns,
                              fps=round(fps, 3) if fps else None)
        await self.delay()
        async with self._lock:
            try:
                return (await (await self._socket()).send_frame(header, frame.jpeg)).target
            except HubUnreachable:
                await self.close()
                raise

    async def close(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.close()


def make_transport(kind: str, hub: HubClient, camera_id: str, timeout_s: float, delay: NetDelay | None = None,
                   fps: FpsGetter = _no_fps) -> Transport:
    if kind == "http":
        return HttpTransport(hub, camera_id, delay, fps)
    if kind == "ws":
        return WsTransport(hub, camera_id, timeout_s, delay, fps)
    raise ValueError(f"unknown transport {kind!r} (http or ws)")
