"""Uploading frames to the hub: HTTP POST per frame (keep-alive) or one WebSocket per camera."""

from __future__ import annotations

import json
from typing import Protocol

import aiohttp

from .capture import CapturedFrame


class HubUnavailable(ConnectionError):
    """The hub could not be reached or failed (5xx, dropped socket): retry with backoff."""


class FrameRejected(Exception):
    """The hub refused this frame (4xx); the next frame may well be accepted."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code = status, code


class Transport(Protocol):
    async def send(self, frame: CapturedFrame) -> None:
        """Deliver one frame; raises HubUnavailable or FrameRejected."""

    async def close(self) -> None: ...


def _error_of(status: int, body: str) -> FrameRejected:
    try:
        err = json.loads(body)["error"]
        return FrameRejected(status, err.get("code", "?"), err.get("message", ""))
    except (ValueError, KeyError, TypeError):
        return FrameRejected(status, f"http_{status}", body[:200])


class HttpTransport:
    """``POST /api/v1/cameras/{id}/frames``, one request in flight, on the session's pooled
    keep-alive connection."""

    def __init__(self, session: aiohttp.ClientSession, hub_url: str, camera_id: str) -> None:
        self.session = session
        self.url = f"{hub_url.rstrip('/')}/api/v1/cameras/{camera_id}/frames"

    async def send(self, frame: CapturedFrame) -> None:
        headers = {
            "Content-Type": "image/jpeg",
            "X-Capture-Time-Ns": str(frame.capture_time_ns),
            "X-Frame-Seq": str(frame.seq),
        }
        if frame.source_frame is not None:
            headers["X-Source-Frame"] = str(frame.source_frame)
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

    def __init__(self, session: aiohttp.ClientSession, hub_url: str, camera_id: str, timeout_s: float = 5.0) -> None:
        self.session = session
        self.url = f"{hub_url.rstrip('/').replace('http', 'ws', 1)}/api/v1/cameras/{camera_id}/stream"
        self.timeout_s = timeout_s
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def send(self, frame: CapturedFrame) -> None:
        header = json.dumps({"seq": frame.seq, "capture_time_ns": frame.capture_time_ns,
                             "source_frame": frame.source_frame}).encode()
        try:
            if self._ws is None or self._ws.closed:
                self._ws = await self.session.ws_connect(self.url, heartbeat=10.0, autoping=True)
            await self._ws.send_bytes(len(header).to_bytes(4, "big") + header + frame.jpeg)
            msg = await self._ws.receive(timeout=self.timeout_s)
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
                   timeout_s: float) -> Transport:
    if kind == "http":
        return HttpTransport(session, hub_url, camera_id)
    if kind == "ws":
        return WsTransport(session, hub_url, camera_id, timeout_s)
    raise ValueError(f"unknown transport {kind!r} (http or ws)")
