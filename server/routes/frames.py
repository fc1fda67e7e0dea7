"""Frames across cameras, paired by capture time."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query

from ..deps import StoreDep
from ..errors import ApiError
from ..schemas import ErrorOut, SyncSetOut
from ..settings import CAMERA_ID_PATTERN
from ..sync import nearest_set

router = APIRouter(prefix="/frames", tags=["frames"])
_ID = re.compile(CAMERA_ID_PATTERN)


def parse_camera_list(raw: str) -> list[str]:
    """``"a,b"`` -> ``["a", "b"]``; raises ApiError 422 naming the bad part."""
    ids = [p.strip() for p in raw.split(",") if p.strip()]
    bad = [p for p in ids if not _ID.match(p)]
    if not ids or bad:
        raise ApiError(422, "invalid_camera_list",
                       "cameras must be a comma-separated list of camera ids", invalid=bad)
    if len(set(ids)) != len(ids):
        raise ApiError(422, "invalid_camera_list", "a camera is named twice", cameras=ids)
    return ids


@router.get("/sync", response_model=SyncSetOut, responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}},
            summary="Newest set of one frame per camera, closest together in capture time")
def sync_set(
    store: StoreDep,
    cameras: Annotated[str, Query(max_length=4096, description="Comma-separated camera ids, e.g. `side,front`.")],
) -> dict:
    ids = parse_camera_list(cameras)
    rings = {cid: store.ring(cid) for cid in ids}
    missing = [cid for cid, ring in rings.items() if not ring]
    if missing:
        raise ApiError(404, "camera_not_found", f"no frames from {', '.join(missing)}", missing=missing)
    frames, spread_ms = nearest_set(rings)
    return {"spread_ms": round(spread_ms, 3), "frames": [f.meta() for f in frames]}
