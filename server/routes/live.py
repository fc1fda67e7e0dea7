"""The live view (docs/api.md#live-view): display tokens, the live socket, its viewers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from starlette.requests import HTTPConnection

from formsync.wire.base import read
from formsync.wire.live import DisplayTokenOut, LiveReady, LiveViewerOut, LiveViewersOut, LiveWatch
from server.auth import VIEWER
from server.errors import ApiError
from server.live.fanout import LiveFanout, Viewer
from server.live.viewer import send_forever

router = APIRouter(prefix="/live", tags=["live"])

LIVE_STREAM_PATH = "/api/v1/live/stream"
"""Open to the token middleware: the socket authenticates with the display token it sends first."""

CLOSE_REFUSED = 4401
CLOSE_BAD_MESSAGE = 4422


@router.post("/tokens", response_model=DisplayTokenOut, dependencies=[VIEWER],
             summary="Mint a short-lived display token for a browser's live sockets")
async def mint_token(conn: HTTPConnection) -> DisplayTokenOut:
    tokens = conn.app.state.display_tokens
    token, expires = tokens.mint()
    return DisplayTokenOut(token=token, expires_time_ns=expires, ttl_s=tokens.ttl_s)


@router.get("/viewers", response_model=LiveViewersOut, dependencies=[VIEWER], summary="Open live sockets")
async def viewers(conn: HTTPConnection) -> LiveViewersOut:
    fanout: LiveFanout = conn.app.state.live
    return LiveViewersOut(viewers=[
        LiveViewerOut(viewer_id=v.viewer_id, cameras=sorted(v.cameras), sync=v.sync, analysis=v.analysis,
                      connected_time_ns=v.connected_time_ns, sent=v.sent, dropped=v.mailbox.dropped)
        for v in fanout.viewers.values()])


def _watch(text: str | None) -> LiveWatch:
    try:
        return read(LiveWatch, text or "")
    except ValidationError as exc:
        raise ApiError(422, "invalid_message", "not a hello or watch message",
                       problems=[f"{'.'.join(map(str, e['loc'])) or 'message'}: {e['msg']}"
                                 for e in exc.errors()]) from None


async def _refuse(websocket: WebSocket, err: ApiError, code: int) -> None:
    request_id = websocket.scope.get("state", {}).get("request_id", "")
    with contextlib.suppress(Exception):
        await websocket.send_text(json.dumps({"type": "error", "status": err.status, **err.body(request_id)}))
        await websocket.close(code=code, reason=err.code)


@router.websocket("/stream")
async def live_stream(websocket: WebSocket) -> None:
    app = websocket.app
    await websocket.accept()
    try:
        text = await asyncio.wait_for(websocket.receive_text(), app.state.settings.live_hello_timeout_s)
        hello = _watch(text)
        if hello.type != "hello":
            raise ApiError(422, "invalid_message", "the first message must be a hello")
        expires = app.state.display_tokens.check(hello.token, time.time_ns())
    except ApiError as err:
        await _refuse(websocket, err, CLOSE_REFUSED if err.status == 401 else CLOSE_BAD_MESSAGE)
        return
    except TimeoutError:
        await _refuse(websocket, ApiError(408, "hello_timeout", "no hello message in time"), CLOSE_BAD_MESSAGE)
        return
    except (WebSocketDisconnect, RuntimeError, KeyError):  # gone, or a binary first message
        await _refuse(websocket, ApiError(422, "invalid_message", "the first message must be text"),
                      CLOSE_BAD_MESSAGE)
        return
    fanout: LiveFanout = app.state.live
    viewer = fanout.add()
    try:
        await websocket.send_text(LiveReady(viewer_id=viewer.viewer_id, expires_time_ns=expires).model_dump_json())
        viewer.watch(frozenset(hello.cameras), hello.sync, hello.analysis)
        await _serve(websocket, viewer, app)
    finally:
        fanout.remove(viewer)


async def _serve(websocket: WebSocket, viewer: Viewer, app) -> None:
    async def listen() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                change = _watch(message.get("text"))
            except ApiError as err:
                await websocket.send_text(json.dumps({"type": "error", "status": err.status, **err.body()}))
                continue
            viewer.watch(frozenset(change.cameras), change.sync, change.analysis)

    tasks = [asyncio.create_task(listen(), name=f"live-listen:{viewer.viewer_id}"),
             asyncio.create_task(send_forever(viewer, app.state.store, app.state.results, websocket.send_bytes,
                                              websocket.send_text), name=f"live-send:{viewer.viewer_id}")]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
