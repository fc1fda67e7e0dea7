"""Camera leases: workers ask the hub for each camera they analyse (``server/leases.py``)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from formsync.wire.errors import ErrorOut
from formsync.wire.events import LeaseEvent, SetEvent
from formsync.wire.leases import (
    LeaseClaim,
    LeaseList,
    LeaseOut,
    LeaseRelease,
    LeaseReleaseOut,
    LeaseRenewal,
    LeaseRenewalOut,
)
from server.auth import READER, WORKER
from server.deps import BusDep, CameraId, SetsDep
from server.events import EventBus
from server.leases import LeaseStore
from server.set_store import SetStore

log = logging.getLogger("formsync.hub.leases")

router = APIRouter(prefix="/leases", tags=["leases"])


def _leases(request: Request) -> LeaseStore:
    return request.app.state.leases


@router.post("/renew", response_model=LeaseRenewalOut, responses={422: {"model": ErrorOut}},
             dependencies=[WORKER], summary="Renew every lease a worker holds (every quarter lifetime)")
async def renew(body: LeaseRenewal, request: Request) -> dict:
    held, lost = await _leases(request).renew(body.worker_id, body.instance, list(body.camera_ids), body.ttl_ms,
                                              body.max_cameras)
    return {"held": held, "lost": lost}


@router.post("/{camera_id}", response_model=LeaseOut, responses={422: {"model": ErrorOut}}, dependencies=[WORKER],
             summary="Ask for a camera's lease (or renew it): granted, or why not")
async def acquire(camera_id: CameraId, body: LeaseClaim, request: Request, sets: SetsDep, bus: BusDep) -> dict:
    grant = await _leases(request).acquire(camera_id, body.worker_id, body.instance, body.ttl_ms, body.max_cameras)
    if grant.granted and grant.taken_over_from is not None:
        log.warning("[%s] taken over by %s from %s, which lost it without releasing it", camera_id,
                    body.worker_id, grant.taken_over_from)
        await close_lost_set(sets, bus, camera_id)
    if grant.granted and not grant.renewed:
        bus.emit(LeaseEvent(camera_id=camera_id, worker_id=body.worker_id, change="granted",
                            taken_over_from=grant.taken_over_from))
    return {"camera_id": camera_id, "granted": grant.granted, "reason": grant.reason, "worker_id": grant.worker_id,
            "expires_in_ms": grant.expires_in_ms, "taken_over_from": grant.taken_over_from}


@router.delete("/{camera_id}", response_model=LeaseReleaseOut, responses={422: {"model": ErrorOut}},
               dependencies=[WORKER], summary="Release a camera's lease (only its holder can)")
async def release(camera_id: CameraId, body: LeaseRelease, request: Request, bus: BusDep) -> dict:
    released = await _leases(request).release(camera_id, body.worker_id, body.instance)
    if released:
        bus.emit(LeaseEvent(camera_id=camera_id, worker_id=body.worker_id, change="released"))
    return {"released": released}


@router.get("", response_model=LeaseList, dependencies=[READER],
            summary="Which worker analyses each camera, and every live worker's load")
async def list_leases(request: Request) -> dict:
    store = _leases(request)
    return {"leases": await store.leases(), "workers": await store.workers()}


async def close_lost_set(sets: SetStore, bus: EventBus, camera_id: str) -> None:
    """Close the camera's open set as ``worker_lost``: its worker died, and the set's reps so far
    (reported after each rep) are kept rather than replaced by the next worker's set."""
    live = await run_in_threadpool(sets.live, camera_id)  # may ask Redis
    if live is None or live["status"] != "open":
        return
    body = {k: v for k, v in live.items() if k not in ("camera_id", "saved_at")}
    body.update(status="closed", end_reason="worker_lost")
    _, error = await run_in_threadpool(sets.put, camera_id, body)
    bus.emit(SetEvent(camera_id=camera_id, set_id=body["set_id"], status="closed", reps=body["reps"],
                      mean_score=body.get("mean_score"), persisted=error is None))
