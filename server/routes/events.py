"""Event stream for subscribers (dashboard pollers, analysis workers)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect

from formsync.wire.events import EVENT_TYPES
from server.auth import WS_READER
from server.deps import BusDep

router = APIRouter(tags=["events"])



@router.websocket("/events", dependencies=[WS_READER])
async def events(
    websocket: WebSocket,
    bus: BusDep,
    types: Annotated[str | None, Query(description="Comma-separated event types to receive; all when absent.")] = None,
) -> None:
    wanted = None
    if types:
        wanted = frozenset(t.strip() for t in types.split(",") if t.strip())
        if not wanted <= EVENT_TYPES:
            await websocket.close(code=1008, reason=f"unknown event types {sorted(wanted - EVENT_TYPES)}")
            return
    await websocket.accept()
    sub = bus.subscribe(wanted)

    async def pump() -> None:
        while True:
            event = await sub.get()
            await websocket.send_text(json.dumps(event, separators=(",", ":")))

    async def drain() -> None:
        # Reading is how a closed socket is noticed; subscribers send nothing we need.
        while True:
            if (await websocket.receive())["type"] == "websocket.disconnect":
                return

    tasks = [asyncio.create_task(pump()), asyncio.create_task(drain())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    except WebSocketDisconnect:
        pass
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        bus.unsubscribe(sub)
