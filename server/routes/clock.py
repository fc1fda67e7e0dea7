"""The hub's clock, for clients estimating their offset (NTP four-timestamp exchange)."""

import time

from fastapi import APIRouter

from ..auth import ANY_ROLE
from ..schemas import TimeOut

# Any role: cameras synchronise over it, and it tells strangers nothing but that a hub is here.
router = APIRouter(tags=["clock"], dependencies=[ANY_ROLE])


@router.get("/time", response_model=TimeOut, summary="Hub receive and send times (RFC 5905 t1, t2)")
async def hub_time() -> dict:
    # async and dependency-free: nothing between the stamps but building this dict, so t2 - t1
    # stays in microseconds and the client's round trip measures the network, not the hub.
    received = time.time_ns()
    return {"receive_time_ns": received, "send_time_ns": time.time_ns()}
