"""Frame ingest over one WebSocket per camera (see docs/api.md for the message layout)."""

from __future__ import annotations

import json
import re
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from formsync.ids import CAMERA_ID_PATTERN
from formsync.wire.frames import StreamHeader, TimeReply, TimeRequest
from server.auth import WS_CAMERA
from server.deps import IngestDep
from server.errors import ApiError
from server.shared_state.connection import REDIS_DOWN, unavailable

router = APIRouter(prefix="/cameras", tags=["cameras"])
_ID = re.compile(CAMERA_ID_PATTERN)
_MAX_HEADER = 4096


def time_reply(text: str | None, received_ns: int) -> str:
    """Answer ``{"type": "time", "t0": int}`` with the NTP exchange's hub stamps t1 and t2.

    Raises ApiError 422 for any other text message.
    """
    try:
        t0 = TimeRequest.model_validate_json(text or "").t0
    except ValidationError:
        raise ApiError(422, "invalid_message",
                       'frames are binary messages; the only text message is {"type": "time", "t0": <ns>}') from None
    return TimeReply(t0=t0, t1=received_ns, t2=time.time_ns()).model_dump_json()


def split_message(message: bytes) -> tuple[StreamHeader, bytes]:
    """Split ``len(4, big-endian) | JSON header | JPEG``; raises ApiError 422 on a bad layout."""
    if len(message) < 4:
        raise ApiError(422, "invalid_message", "message shorter than its 4-byte header length")
    n = int.from_bytes(message[:4], "big")
    if n == 0 or n > _MAX_HEADER or 4 + n > len(message):
        raise ApiError(422, "invalid_message", f"bad header length {n}")
    try:
        header = StreamHeader.model_validate_json(message[4:4 + n])
    except ValidationError as exc:
        raise ApiError(422, "validation_error", "invalid stream header",
                       problems=[f"{'.'.join(map(str, e['loc'])) or 'header'}: {e['msg']}"
                                 for e in exc.errors()]) from None
    return header, message[4 + n:]


@router.websocket("/{camera_id}/stream", dependencies=[WS_CAMERA])
async def stream_frames(websocket: WebSocket, camera_id: str, ingest: IngestDep) -> None:
    if not _ID.match(camera_id):
        # 1008 policy violation: the id is part of the URL, nothing the client sends can fix it.
        await websocket.close(code=1008, reason="invalid camera id")
        return
    await websocket.accept()
    request_id = websocket.scope.get("state", {}).get("request_id", "")
    try:
        while True:
            message = await websocket.receive()
            received_ns = time.time_ns()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            try:
                if data is None:
                    await websocket.send_text(time_reply(message.get("text"), received_ns))
                    continue
                header, jpeg = split_message(data)
                try:
                    frame = await ingest.accept(camera_id, jpeg, seq=header.seq,
                                                capture_time_ns=header.capture_time_ns,
                                                source_frame=header.source_frame,
                                                clock_offset_ns=header.clock_offset_ns,
                                                clock_uncertainty_ns=header.clock_uncertainty_ns,
                                                declared_fps=header.fps)
                except REDIS_DOWN as exc:  # the HTTP route's 503; the stream stays open
                    raise unavailable(exc) from None
            except ApiError as err:
                await websocket.send_text(json.dumps({"ok": False, "status": err.status, **err.body(request_id)}))
                continue
            target = ingest.quality.target_json(camera_id) if ingest.quality else "null"
            await websocket.send_text(
                f'{{"ok":true,"seq":{frame.seq},"hub_receive_time_ns":{frame.hub_receive_time_ns},"target":{target}}}'
            )
    except WebSocketDisconnect:
        return
