"""All routers, aggregated in one place."""

from fastapi import APIRouter

from . import analysis, cameras, clock, events, frames, health, stream

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(cameras.router)
api_router.include_router(stream.router)
api_router.include_router(frames.router)
api_router.include_router(events.router)
api_router.include_router(analysis.router)
api_router.include_router(clock.router)

__all__ = ["api_router", "health"]
