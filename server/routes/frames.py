"""Frames across cameras, matched by capture time."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated

from fastapi import APIRouter, Query

from formsync.ids import CAMERA_ID_PATTERN
from formsync.synchronizer import newest_set
from formsync.wire.errors import ErrorOut
from formsync.wire.sync import SyncSetOut
from server.auth import READER
from server.deps import SettingsDep, StoreDep
from server.errors import ApiError

router = APIRouter(prefix="/frames", tags=["frames"], dependencies=[READER])
_ID = re.compile(CAMERA_ID_PATTERN)


def parse_camera_list(raw: str) -> list[str]:
    """``"a,b"`` -> ``["a", "b"]``; raises ApiError 422 naming the bad part."""
    ids = [p.strip() for p in raw.split(",") if p.strip()]
    bad = [p for p in ids if not _ID.match(p)]
    if len(ids) < 2 or bad:
        raise ApiError(422, "invalid_camera_list",
                       "cameras must be a comma-separated list of two or more camera ids", invalid=bad)
    if len(set(ids)) != len(ids):
        raise ApiError(422, "invalid_camera_list", "a camera is named twice", cameras=ids)
    return ids


@router.get("/sync", response_model=SyncSetOut, responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}},
            summary="Newest synchronised set: one frame per camera, matched by capture time")
async def sync_set(
    store: StoreDep,
    settings: SettingsDep,
    cameras: Annotated[str, Query(max_length=4096, description="Comma-separated camera ids, e.g. `side,front`.")],
) -> dict:
    ids = parse_camera_list(cameras)
    rings = dict(zip(ids, await asyncio.gather(*(store.ring(cid) for cid in ids)), strict=True))
    missing = [cid for cid, ring in rings.items() if not ring]
    if missing:
        raise ApiError(404, "camera_not_found", f"no frames from {', '.join(missing)}", missing=missing)
    max_spread_ns = int(settings.sync_max_spread_ms * 1e6)
    found, dropped = newest_set(rings, max_spread_ns)
    if found is None:
        raise ApiError(404, "no_sync_set",
                       f"no set of frames within {settings.sync_max_spread_ms} ms in the last "
                       f"{settings.ring_seconds} s", dropped=dict(dropped))
    return {"spread_ms": round(found.spread_ns / 1e6, 3), "max_spread_ms": settings.sync_max_spread_ms,
            "frames": [f.meta() for f in found.frames]}
