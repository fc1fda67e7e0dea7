"""Heartbeats: every client, worker (and the hub itself) reports its host's and its own health."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from formsync.wire.errors import ErrorOut
from formsync.wire.monitoring import PROCESS_ID_PATTERN, HeartbeatIn, HeartbeatOut, HeartbeatsOut
from server.auth import ANY_ROLE, REPORTER, VIEWER
from server.deps import HeartbeatsDep
from server.errors import ApiError
from server.monitoring.monitor import heartbeat_received

router = APIRouter(prefix="/heartbeats", tags=["monitoring"])


@router.post("", status_code=201, response_model=HeartbeatOut, responses={422: {"model": ErrorOut}},
             dependencies=[REPORTER],
             summary="Report a process's health (every 2 s)")
async def post_heartbeat(body: HeartbeatIn, request: Request) -> dict:
    # async and on the loop: a dict swap under a lock and two event publishes, no I/O.
    return heartbeat_received(request.app.state, body.model_dump(mode="json"), time.time_ns())


@router.get("", response_model=HeartbeatsOut, dependencies=[VIEWER],
            summary="The latest heartbeat of every process, lost ones included")
def list_heartbeats(heartbeats: HeartbeatsDep) -> dict:
    return {"lost_after_intervals": heartbeats.lost_after, "processes": heartbeats.snapshot(time.time_ns())}


# Any role: clients and workers say goodbye; the Monitor page forgets a retired process.
@router.delete("/{process_id}", status_code=204, responses={404: {"model": ErrorOut}}, dependencies=[ANY_ROLE],
               summary="Forget a process (e.g. a camera machine retired on purpose); clears its lost alert")
def forget_heartbeat(process_id: Annotated[str, Path(pattern=PROCESS_ID_PATTERN)],
                     heartbeats: HeartbeatsDep) -> Response:
    if not heartbeats.forget(process_id):
        raise ApiError(404, "process_not_found", f"no heartbeat from process {process_id!r}",
                       process_id=process_id)
    return Response(status_code=204)
