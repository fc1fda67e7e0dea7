"""Reading the hub's live socket from Python (benchmarks, tests, tools); browsers use
streamlit_app/live_view's script. The messages: formsync/wire/live.py."""

from __future__ import annotations

import json
from dataclasses import dataclass

import aiohttp

from formsync.wire.base import read
from formsync.wire.live import LiveFrameHeader, LiveReady, LiveSyncHeader, LiveWatch


@dataclass(frozen=True)
class LiveMessage:
    """One binary message: its header and JPEG(s) (one per frame of a set, in header order)."""

    header: LiveFrameHeader | LiveSyncHeader
    jpegs: tuple[bytes, ...]


def unpack(message: bytes) -> LiveMessage:
    """Split ``len(4) | JSON header | JPEG bytes...``. Raises ValueError on a bad layout."""
    if len(message) < 4:
        raise ValueError("message shorter than its header length")
    n = int.from_bytes(message[:4], "big")
    head = json.loads(message[4:4 + n])
    body = message[4 + n:]
    if head.get("kind") == "sync":
        header = read(LiveSyncHeader, head)
        jpegs, at = [], 0
        for f in header.frames:
            jpegs.append(body[at:at + f.bytes])
            at += f.bytes
        if at != len(body):
            raise ValueError(f"set frames take {at} bytes, the message has {len(body)}")
        return LiveMessage(header, tuple(jpegs))
    return LiveMessage(read(LiveFrameHeader, head), (body,))


class LiveRefused(Exception):
    """The hub refused the socket: ``code`` is its error code (e.g. ``display_token_expired``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


async def open_live(session: aiohttp.ClientSession, hub_url: str, token: str, *, cameras: list[str] = (),
                    sync: bool = False, analysis: bool = False) -> tuple[aiohttp.ClientWebSocketResponse, LiveReady]:
    """Open ``WS /api/v1/live/stream`` and send the hello; returns the socket and the hub's ready
    message. Raises ``LiveRefused`` when the hub refuses the token or the hello."""
    url = hub_url.rstrip("/").replace("http", "ws", 1) + "/api/v1/live/stream"
    ws = await session.ws_connect(url)
    hello = LiveWatch(type="hello", token=token, cameras=list(cameras), sync=sync, analysis=analysis)
    await ws.send_str(hello.model_dump_json())
    answer = await ws.receive()
    if answer.type == aiohttp.WSMsgType.TEXT:
        data = json.loads(answer.data)
        if data.get("type") == "ready":
            return ws, read(LiveReady, data)
        await ws.close()
        error = data.get("error", {})
        raise LiveRefused(error.get("code", "refused"), error.get("message", ""))
    await ws.close()
    raise LiveRefused("closed", f"socket closed before the hub answered ({ws.close_code})")
