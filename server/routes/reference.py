"""Which reference ("answer sheet") the analysis workers score against, kept across restarts."""

from __future__ import annotations

import sqlite3

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from formsync.wire.errors import ErrorOut
from formsync.wire.events import ReferenceEvent
from formsync.wire.references import ReferenceChoice, ReferenceOut
from server.auth import READER, VIEWER
from server.deps import BusDep, ReferencesDep
from server.errors import ApiError
from server.routes.references import not_found

router = APIRouter(prefix="/reference", tags=["references"])


@router.get("", response_model=ReferenceOut, dependencies=[READER],
            summary="The chosen reference (name null: each camera is scored against the default of its view)")
async def get_chosen(references: ReferencesDep) -> dict:
    name = await run_in_threadpool(references.chosen)
    meta = await run_in_threadpool(references.get, name) if name is not None else None
    return {"name": name, "content_hash": None if meta is None else meta["content_hash"]}


@router.put("", response_model=ReferenceOut, responses={s: {"model": ErrorOut} for s in (404, 422, 503)},
            dependencies=[VIEWER], summary="Choose a stored reference; workers switch from their next frame")
async def put_chosen(body: ReferenceChoice, references: ReferencesDep, bus: BusDep) -> dict:
    try:
        meta = await run_in_threadpool(references.choose, body.name)
    except KeyError:
        raise not_found(body.name) from None
    except sqlite3.Error as exc:
        raise ApiError(503, "reference_not_stored", f"the hub could not store the choice: {exc}") from None
    bus.emit(ReferenceEvent(change="chosen", name=body.name, content_hash=meta["content_hash"], chosen=body.name))
    return {"name": body.name, "content_hash": meta["content_hash"]}
