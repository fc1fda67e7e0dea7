"""Uploading frames to the hub: HTTP POST per frame (keep-alive) or one WebSocket per camera."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from clients.capture import CapturedFrame
from clients.clock import TimeSample


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


class HubUnavailable(ConnectionError):
    """The hub could not be reached or failed (5xx, dropped socket): retry with backoff."""


class FrameRejected(Exception):
    """The hub refused this frame (4xx); the next frame may well be accepted."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code = status, code


class Transport(Protocol):
    async def send(self, frame: CapturedFrame, stamp: Stamp) -> None:
        """Deliver one frame; raises HubUnavailable or FrameRejected."""

    async def time_sample(self, clock_ns: Callable[[], int]) -> TimeSample:
        """One NTP-style exchange with the hub; raises HubUnavailable."""

    async def close(self) -> None: ...


def _error_of(status: int, body: str) -> FrameRejected:
    try:
        err = json.loads(body)["error"]
        return FrameRejected(status, err.get("code", "?"), err.get("message", ""))
    except (ValueError, KeyError, TypeError):
        return FrameRejected(status, f"http_{status}", body[:200])


FpsGetter = Callable[[], "float | None"]
"""The camera's current frame rate (frames/s), declared to the hub with each upload (its upload
limit is a multiple of it, ``server/limits.py``); None while unknown."""


def _no_fps() -> float | None:
    return None


class HttpTransport:
    """``POST /api/v1/cameras/{id}/frames``, one request in flight, on the session's pooled
    keep-alive connection."""

    def __init__(self, session: aiohttp.ClientSession, hub_url: str, camera_id: str,
                 delay: NetDelay | None = None, fps: FpsGetter = _no_fps) -> None:
        self.session = session
        self.fps = fps
        self.url = f"{hub_url.rstrip('/')}/api/v1/cameras/{camera_id}/frames"
        self.time_url = f"{hub_url.rstrip('/')}/api/v1/time"
        self.delay = delay or NetDelay()

    async def time_sample(self, clock_ns: Callable[[], int]) -> TimeSample:
        try:
            t0 = clock_ns()
            await self.delay()
            async with self.session.get(self.time_url) as resp:
                if resp.status != 200:
                    text = await resp.text()
                    if resp.status < 500:
                        raise _error_of(resp.status, text)  # e.g. 401: a missing or refused token
                    raise HubUnavailable(f"time exchange: hub answered {resp.status}")
                body = await resp.json()
            await self.delay()
            t3 = clock_ns()
            return TimeSample(t0, int(body["receive_time_ns"]), int(body["send_time_ns"]), t3)
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as exc:
            raise HubUnavailable(f"time exchange failed: {type(exc).__name__}: {exc}") from exc

    async def send(self, frame: CapturedFrame, stamp: Stamp) -> None:
        headers = {
            "Content-Type": "image/jpeg",
            "X-Capture-Time-Ns": str(stamp.capture_time_ns),
            "X-Frame-Seq": str(frame.seq),
        }
        if frame.source_frame is not None:
            headers["X-Source-Frame"] = str(frame.source_frame)
        if stamp.clock_offset_ns is not None:
            headers["X-Clock-Offset-Ns"] = str(stamp.clock_offset_ns)
            headers["X-Clock-Uncertainty-Ns"] = str(stamp.clock_uncertainty_ns)
        fps = self.fps()
        if fps:
            headers["X-Camera-Fps"] = f"{fps:.3f}"
        await self.delay()
        try:
            async with self.session.post(self.url, data=frame.jpeg, headers=headers) as resp:
                body = await resp.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise HubUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if resp.status >= 500:
            raise HubUnavailable(f"hub answered {resp.status}")
        if resp.status != 201:
            raise _error_of(resp.status, body)

    async def close(self) -> None:
        pass


class WsTransport:
    """One WebSocket to ``/api/v1/cameras/{id}/stream``; waits for the hub's ack of each frame,
    so at most one frame is ever in flight (no backlog in socket buffers)."""

    def __init__(self, session: aiohttp.ClientSession, hub_url: str, camera_id: str, timeout_s: float = 5.0,
                 delay: NetDelay | None = None, fps: FpsGetter = _no_fps) -> None:
        self.session = session
        self.fps = fps
        self.url = f"{hub_url.rstrip('/').replace('http', 'ws', 1)}/api/v1/cameras/{camera_id}/stream"
        self.timeout_s = timeout_s
        self.delay = delay or NetDelay()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        # One request/reply at a time on the socket: frames and time exchanges must not interleave.
        self._lock = asyncio.Lock()

    async def _socket(self) -> aiohttp.ClientWebSocketResponse:
        if self._ws is None or self._ws.closed:
            self._ws = await self.session.ws_connect(self.url, heartbeat=10.0, autoping=True)
        return self._ws

    async def time_sample(self, clock_ns: Callable[[], int]) -> TimeSample:
        async with self._lock:
            try:
                ws = await self._socket()
                t0 = clock_ns()
                await self.delay()
                await ws.send_str(json.dumps({"type": "time", "t0": t0}))
                msg = await ws.receive(timeout=self.timeout_s)
                await self.delay()
                t3 = clock_ns()
                reply = json.loads(msg.data) if msg.type is aiohttp.WSMsgType.TEXT else {}
                return TimeSample(t0, int(reply["t1"]), int(reply["t2"]), t3)
            except (aiohttp.ClientError, TimeoutError, ConnectionError, KeyError, ValueError) as exc:
                await self.close()
                raise HubUnavailable(f"time exchange failed: {type(exc).__name__}: {exc}") from exc

    async def send(self, frame: CapturedFrame, stamp: Stamp) -> None:
        header = json.dumps({"seq": frame.seq, "capture_time_ns": stamp.capture_time_ns,
                             "source_frame": frame.source_frame, "clock_offset_ns": stamp.clock_offset_ns,
                             "clock_uncertainty_ns": stamp.clock_uncertainty_ns,
                             "fps": round(self.fps(), 3) if self.fps() else None}).encode()
        await self.delay()
        async with self._lock:
            await self._send_locked(frame, header)

    async def _send_locked(self, frame: CapturedFrame, header: bytes) -> None:
        try:
            ws = await self._socket()
            await ws.send_bytes(len(header).to_bytes(4, "big") + header + frame.jpeg)
            msg = await ws.receive(timeout=self.timeout_s)
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            await self.close()
            raise HubUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if msg.type is not aiohttp.WSMsgType.TEXT:
            await self.close()
            raise HubUnavailable(f"stream closed ({msg.type.name})")
        ack = json.loads(msg.data)
        if not ack.get("ok"):
            err = ack.get("error", {})
            raise FrameRejected(ack.get("status", 422), err.get("code", "?"), err.get("message", ""))

    async def close(self) -> None:
        if self._ws is not None:
            ws, self._ws = self._ws, None
            await ws.close()


def make_transport(kind: str, session: aiohttp.ClientSession, hub_url: str, camera_id: str,
                   timeout_s: float, delay: NetDelay | None = None, fps: FpsGetter = _no_fps) -> Transport:
    if kind == "http":
        return HttpTransport(session, hub_url, camera_id, delay, fps)
    if kind == "ws":
        return WsTransport(session, hub_url, camera_id, timeout_s, delay, fps)
    raise ValueError(f"unknown transport {kind!r} (http or ws)")
