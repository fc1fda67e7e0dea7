"""Frame upload over HTTP, camera list, latest frame."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.responses import JSONResponse

from formsync.wire import frames as wire
from formsync.wire.base import I64_MAX
from formsync.wire.errors import ErrorOut
from formsync.wire.frames import CamerasOut, UploadOut
from server.auth import CAMERA, READER
from server.deps import CameraId, IngestDep, MetricsDep, StoreDep
from server.errors import ApiError
from server.uploads import read_body

router = APIRouter(prefix="/cameras", tags=["cameras"])

_ERRORS = {s: {"model": ErrorOut} for s in (404, 409, 413, 415, 422, 429)}
_JPEG_BODY = {
    "requestBody": {
        "required": True,
        "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "/{camera_id}/frames", status_code=201, response_model=UploadOut,
    responses=_ERRORS, openapi_extra=_JPEG_BODY, dependencies=[CAMERA],
    summary="Upload one JPEG frame",
)
async def upload_frame(
    camera_id: CameraId,
    request: Request,
    ingest: IngestDep,
    capture_time_ns: Annotated[int, Header(alias=wire.CAPTURE_TIME_HEADER, ge=0, le=I64_MAX,
                                           description="Capture time, ns since the epoch.")],
    seq: Annotated[int, Header(alias=wire.SEQ_HEADER, ge=0, le=I64_MAX, description="Per-camera sequence number.")],
    source_frame: Annotated[int | None, Header(alias=wire.SOURCE_FRAME_HEADER, ge=0, le=I64_MAX,
                                               description="Frame index in the source video.")] = None,
    clock_offset_ns: Annotated[int | None, Header(
        alias=wire.CLOCK_OFFSET_HEADER, ge=-wire.CLOCK_OFFSET_MAX_NS, le=wire.CLOCK_OFFSET_MAX_NS,
        description="Hub minus camera clock (camera's estimate).")] = None,
    clock_uncertainty_ns: Annotated[int | None, Header(
        alias=wire.CLOCK_UNCERTAINTY_HEADER, ge=0, le=wire.CLOCK_OFFSET_MAX_NS,
        description="Bound on the offset's error.")] = None,
    camera_fps: Annotated[float | None, Header(
        alias=wire.CAMERA_FPS_HEADER, ge=wire.MIN_FPS, le=wire.MAX_FPS,
        description="The camera's frame rate; its upload limit is 2x this (server/limits.py).")] = None,
) -> Response:
    body = await read_body(request, ingest.max_frame_bytes,
                            lambda size=None: ingest.too_large(size, camera_id))
    frame = await ingest.accept(camera_id, body, seq=seq, capture_time_ns=capture_time_ns,
                          source_frame=source_frame, clock_offset_ns=clock_offset_ns,
                          clock_uncertainty_ns=clock_uncertainty_ns, declared_fps=camera_fps)
    quality = ingest.quality
    return JSONResponse({**frame.meta(), "target": quality.target(camera_id) if quality else None}, status_code=201)


@router.get("", response_model=CamerasOut, summary="Every camera with its state", dependencies=[READER])
async def list_cameras(store: StoreDep, ingest: IngestDep) -> dict:
    cameras = await store.cameras()
    now = time.time_ns()
    return {
        "cameras": [
            {
                "camera_id": c.camera_id,
                "online": ingest.is_online(c.last_receive_time_ns, now),
                "fps": round(c.fps, 3),
                "seq": c.seq,
                "last_capture_time_ns": c.last_capture_time_ns,
                "age_ms": round((now - c.last_capture_time_ns) / 1e6, 3),
                "width": c.width,
                "height": c.height,
                "frames_total": c.frames_total,
                "gaps": c.gaps,
                "clock_offset_ms": None if c.clock_offset_ns is None else round(c.clock_offset_ns / 1e6, 3),
                "clock_uncertainty_ms": None if c.clock_uncertainty_ns is None
                else round(c.clock_uncertainty_ns / 1e6, 3),
                "quality": ingest.quality.target(c.camera_id) if ingest.quality else None,
            }
            for c in cameras
        ]
    }


@router.get(
    "/{camera_id}/frame", response_class=Response, responses={404: {"model": ErrorOut},
    200: {"content": {"image/jpeg": {}}, "description": "The latest JPEG; metadata in X- headers."}},
    summary="The latest frame of a camera", dependencies=[READER],
)
async def latest_frame(camera_id: CameraId, store: StoreDep, metrics: MetricsDep) -> Response:
    frame = await store.latest(camera_id)
    if frame is None:
        raise ApiError(404, "camera_not_found", f"camera {camera_id!r} has sent no frame",
                       camera_id=camera_id)
    metrics.frame_served(camera_id, frame.capture_time_ns, time.time_ns())
    return jpeg_response(frame)


@router.get(
    "/{camera_id}/frames/{seq}", response_class=Response, responses={404: {"model": ErrorOut},
    200: {"content": {"image/jpeg": {}}, "description": "That frame's JPEG; metadata in X- headers."}},
    summary="A recent frame by seq (from the ~1 s ring), e.g. one of a synchronised set", dependencies=[READER],
)
async def frame_by_seq(camera_id: CameraId, seq: Annotated[int, Path(ge=0, le=2**63 - 1)], store: StoreDep) -> Response:
    frame = await store.frame(camera_id, seq)
    if frame is None:
        raise ApiError(404, "frame_not_found", f"frame {seq} of camera {camera_id!r} is not in the ring",
                       camera_id=camera_id, seq=seq)
    return jpeg_response(frame)


def jpeg_response(frame) -> Response:
    headers = {**wire.frame_headers(frame), "Cache-Control": "no-store"}
    return Response(frame.jpeg, media_type="image/jpeg", headers=headers)
