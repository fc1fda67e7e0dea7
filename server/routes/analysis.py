"""Analysis results: workers post them per camera, the dashboard reads the latest."""

from __future__ import annotations

import time

from fastapi import APIRouter

from formsync.wire.analysis import AnalysisIn, AnalysisOut
from formsync.wire.errors import ErrorOut
from formsync.wire.events import AnalysisEvent
from server.analysis_stale import result_age
from server.auth import READER, WORKER
from server.deps import BusDep, CameraId, MetricsDep, ResultsDep, SettingsDep
from server.errors import ApiError
from server.results import StoredResult

router = APIRouter(prefix="/cameras", tags=["analysis"])


def _out(item: StoredResult) -> dict:
    r = item.result
    return {**r, "camera_id": item.camera_id, "hub_receive_time_ns": item.hub_receive_time_ns,
            "latency_ms": round((item.hub_receive_time_ns - r["capture_time_ns"]) / 1e6, 3)}


@router.post("/{camera_id}/analysis", status_code=201, response_model=AnalysisOut,
             responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}}, dependencies=[WORKER],
             summary="Post one frame's analysis result")
async def post_analysis(camera_id: CameraId, body: AnalysisIn, results: ResultsDep, bus: BusDep,
                        metrics: MetricsDep) -> dict:
    item = StoredResult(camera_id, time.time_ns(), body.model_dump(mode="json"))
    if not await results.put(item):
        raise ApiError(409, "stale_result", "a result for a newer frame of this camera is already stored",
                       camera_id=camera_id, seq=body.seq)
    out = _out(item)
    metrics.analysis_result(camera_id, out["latency_ms"], body.processing_ms, item.hub_receive_time_ns)
    bus.emit(AnalysisEvent(camera_id=camera_id, seq=body.seq, capture_time_ns=body.capture_time_ns,
                           score=body.score, reps=body.rep.count, latency_ms=out["latency_ms"],
                           processing_ms=body.processing_ms))
    return out


@router.get("/{camera_id}/analysis", response_model=AnalysisOut, responses={404: {"model": ErrorOut}},
            dependencies=[READER], summary="The latest analysis result of a camera")
async def get_analysis(camera_id: CameraId, results: ResultsDep, settings: SettingsDep) -> dict:
    item = await results.get(camera_id)
    if item is None:
        raise ApiError(404, "no_analysis", f"no analysis result for camera {camera_id!r} yet", camera_id=camera_id)
    age_ms, stale = result_age(item, time.time_ns(), settings.analysis_stale_after_s)
    return {**_out(item), "age_ms": round(age_ms, 3), "stale": stale}
