"""Liveness."""

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from formsync.wire.frames import HealthOut
from server.auth import VIEWER
from server.deps import StoreDep

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut, summary="The hub is up (and reaches its shared state, if any)")
async def healthz(store: StoreDep) -> dict:
    # Reads the store so that a load balancer takes a hub whose Redis is unreachable (503) out.
    return {"status": "ok", "cameras": len(await store.cameras())}


@router.get("/metrics", response_class=Response, summary="Prometheus metrics", dependencies=[VIEWER],
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
