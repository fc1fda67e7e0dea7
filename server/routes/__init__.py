"""All routers, aggregated in one place."""

from fastapi import APIRouter

from formsync.wire.errors import ErrorOut

from . import (
    alerts,
    analysis,
    cameras,
    clock,
    events,
    frames,
    gaze,
    health,
    heartbeats,
    leases,
    live,
    reference,
    reference_jobs,
    references,
    sets,
    stream,
)

# Every /api/v1 route wants a token once the hub has any (server/auth.py, docs/api.md#access).
api_router = APIRouter(prefix="/api/v1", responses={
    401: {"model": ErrorOut,
          "description": "No token, or one the hub does not know (`missing_token`, `invalid_token`)."},
    403: {"model": ErrorOut, "description": "A token of a role that may not use this endpoint (`forbidden`)."},
})
api_router.include_router(cameras.router)
api_router.include_router(stream.router)
api_router.include_router(frames.router)
api_router.include_router(events.router)
api_router.include_router(analysis.router)
api_router.include_router(clock.router)
api_router.include_router(heartbeats.router)
api_router.include_router(alerts.router)
api_router.include_router(sets.router)
api_router.include_router(reference.router)
api_router.include_router(references.router)
api_router.include_router(reference_jobs.router)
api_router.include_router(gaze.router)
api_router.include_router(leases.router)
api_router.include_router(live.router)

__all__ = ["api_router", "health"]
