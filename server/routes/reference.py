"""Which reference ("answer sheet") the analysis workers score against."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from formsync.wire.errors import ErrorOut
from formsync.wire.events import ReferenceEvent
from formsync.wire.references import ReferenceChoice, ReferenceOut
from server.auth import READER, VIEWER
from server.deps import BusDep

router = APIRouter(prefix="/reference", tags=["analysis"])


@router.get("", response_model=ReferenceOut, dependencies=[READER],
            summary="The chosen reference (name null: the workers' default)")
async def get_reference(request: Request) -> dict:
    return {"name": getattr(request.app.state, "reference_name", None)}


@router.put("", response_model=ReferenceChoice, responses={422: {"model": ErrorOut}}, dependencies=[VIEWER],
            summary="Choose the reference; workers switch from their next frame")
async def put_reference(body: ReferenceChoice, request: Request, bus: BusDep) -> dict:
    # The hub does not read the library (it may sit on another machine): a worker that cannot
    # load the name logs it and keeps its current reference.
    request.app.state.reference_name = body.name
    bus.emit(ReferenceEvent(name=body.name))
    return body.model_dump()
