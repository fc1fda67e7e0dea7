"""The hub's clock, for clients estimating their offset (NTP four-timestamp exchange)."""

import time

from fastapi import APIRouter

from formsync.wire.frames import TimeOut

# Any known token may ask (cameras synchronise over it): server/security.py's RequireToken checks
# that before routing, so no dependency runs between the request's arrival and the t1 stamp.
router = APIRouter(tags=["clock"])


@router.get("/time", response_model=TimeOut, summary="Hub receive and send times (RFC 5905 t1, t2)")
async def hub_time() -> dict:
    # async and dependency-free: nothing between the stamps but building this dict, so t2 - t1
    # stays in microseconds and the client's round trip measures the network, not the hub.
    received = time.time_ns()
    return {"receive_time_ns": received, "send_time_ns": time.time_ns()}
