"""Set summaries: workers PUT each camera's running set; closed sets are listed from the database."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from formsync.ids import CAMERA_ID_PATTERN
from formsync.wire.errors import ErrorOut
from formsync.wire.events import SetEvent
from formsync.wire.sets import SET_ID_PATTERN, SetIn, SetList, SetOut, SetPutOut
from server.auth import READER, WORKER
from server.deps import BusDep, CameraId, SetsDep
from server.errors import ApiError

router = APIRouter(tags=["sets"])


@router.put("/cameras/{camera_id}/set", response_model=SetPutOut, responses={422: {"model": ErrorOut}},
            dependencies=[WORKER],
            summary="Create or update a camera's set (idempotent by set_id)")
async def put_set(camera_id: CameraId, body: SetIn, sets: SetsDep, bus: BusDep) -> dict:
    # SQLite blocks: keep it off the event loop that carries the frames.
    item, error = await run_in_threadpool(sets.put, camera_id, body.model_dump(mode="json"))
    bus.emit(SetEvent(camera_id=camera_id, set_id=body.set_id, status=body.status, reps=body.reps,
                      mean_score=body.mean_score, persisted=error is None))
    return {**item, "persisted": error is None, "persist_error": error}


@router.get("/cameras/{camera_id}/set", response_model=SetOut, responses={404: {"model": ErrorOut}},
            dependencies=[READER],
            summary="The camera's live set, or its last closed one")
async def get_live_set(camera_id: CameraId, sets: SetsDep) -> dict:
    item = await run_in_threadpool(sets.live, camera_id)  # may ask Redis
    if item is None:
        raise ApiError(404, "no_set", f"camera {camera_id!r} has no set yet", camera_id=camera_id)
    return item


@router.get("/sets", response_model=SetList, summary="Closed sets, newest first", dependencies=[READER])
def list_sets(sets: SetsDep, limit: Annotated[int, Query(ge=1, le=500)] = 50,
              camera_id: Annotated[str | None, Query(pattern=CAMERA_ID_PATTERN)] = None) -> dict:
    return {"sets": sets.list(limit, camera_id), "unsaved": sets.unsaved, "persist_error": sets.last_error}


@router.get("/sets/{set_id}", response_model=SetOut, responses={404: {"model": ErrorOut}}, dependencies=[READER],
            summary="One closed set")
def get_set(set_id: Annotated[str, Path(pattern=SET_ID_PATTERN)], sets: SetsDep) -> dict:
    item = sets.get(set_id)
    if item is None:
        raise ApiError(404, "set_not_found", f"no set {set_id!r}", set_id=set_id)
    return item
