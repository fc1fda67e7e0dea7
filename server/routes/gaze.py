"""Gaze calibration requests: the hub passes them to the analysis workers as events.

The hub keeps no gaze state of its own. A request becomes a ``gaze_calibrate`` event; the worker
analysing that camera starts (or resets) the calibration on the camera's analysis thread, and its
progress and outcome come back in every result's ``gaze.calibration`` (with this request's id) and
``gaze.target``. This reuses the path the reference choice takes (routes/reference.py) rather than
adding a second channel to the workers.
"""

from __future__ import annotations

import time
import uuid

from fastapi import APIRouter

from formsync.wire.errors import ErrorOut
from formsync.wire.events import GazeCalibrateEvent
from formsync.wire.gaze import GazeCalibrateIn, GazeCalibrateOut
from server.auth import VIEWER
from server.deps import BusDep, CameraId, StoreDep
from server.errors import ApiError

router = APIRouter(prefix="/cameras", tags=["gaze"], dependencies=[VIEWER])  # dashboard controls


async def _request(camera_id: str, store, bus, action: str, duration_s: float | None) -> dict:
    if not any(c.camera_id == camera_id for c in await store.cameras()):
        raise ApiError(404, "camera_not_found", f"camera {camera_id!r} has sent no frame",
                       camera_id=camera_id)
    event = GazeCalibrateEvent(camera_id=camera_id, action=action, request_id=uuid.uuid4().hex[:16],
                               duration_s=duration_s, requested_at_ns=time.time_ns())
    workers = bus.listeners(event.type)
    bus.emit(event)
    return {**event.model_dump(exclude={"type"}), "workers": workers}


@router.post("/{camera_id}/gaze/calibrate", status_code=202, response_model=GazeCalibrateOut,
             responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}},
             summary="Calibrate the camera's gaze target: the person looks at the screen's centre")
async def start_calibration(camera_id: CameraId, store: StoreDep, bus: BusDep,
                            body: GazeCalibrateIn | None = None) -> dict:
    """202: the request went out to the workers (``workers`` of them listen); follow it in the
    camera's results (``gaze.calibration``). 404 for a camera that has sent no frame."""
    return await _request(camera_id, store, bus, "start", (body or GazeCalibrateIn()).duration_s)


@router.delete("/{camera_id}/gaze/calibration", status_code=202, response_model=GazeCalibrateOut,
               responses={404: {"model": ErrorOut}},
               summary="Forget the camera's calibrated gaze target (back to straight into the camera)")
async def reset_calibration(camera_id: CameraId, store: StoreDep, bus: BusDep) -> dict:
    return await _request(camera_id, store, bus, "reset", None)
