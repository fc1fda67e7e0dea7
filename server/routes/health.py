"""Liveness."""

from fastapi import APIRouter

from ..deps import StoreDep
from ..schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut, summary="The hub is up")
def healthz(store: StoreDep) -> dict:
    return {"status": "ok", "cameras": len(store.cameras())}
