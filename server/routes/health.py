"""Liveness."""

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from formsync.wire.frames import HealthOut
from server.auth import VIEWER
from server.deps import StoreDep

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut, summary="The hub is up (and reaches its shared state, if any)")
async def healthz(store: StoreDep, request: Request) -> dict:
    # Reads the store, and pings the shared state where it is another Redis, so that a load balancer
    # takes out a hub that cannot reach either (503).
    state = request.app.state
    if state.redis is not None and state.redis is not state.frames_redis:
        await state.redis.ping()
    return {"status": "ok", "cameras": len(await store.cameras())}


@router.get("/metrics", response_class=Response, summary="Prometheus metrics", dependencies=[VIEWER],
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
