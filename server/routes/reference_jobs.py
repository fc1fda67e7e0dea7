"""Reference build jobs: the Coach page uploads a video, one worker takes the job, builds the
reference and reports its progress and outcome (``server/references/jobs.py``)."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from formsync.wire.errors import ErrorOut
from formsync.wire.events import ReferenceJobEvent
from formsync.wire.references import (
    JOB_ID_PATTERN,
    REFERENCE_NAME_PATTERN,
    JobClaim,
    JobDone,
    JobFailure,
    JobProgress,
    ReferenceJob,
    ReferenceJobList,
)
from server.auth import READER, VIEWER, WORKER
from server.deps import BusDep, JobsDep, ReferencesDep, SettingsDep
from server.errors import ApiError
from server.references.jobs import JobConflict, JobNotFound
from server.references.video import SNIFF_BYTES, container_of
from server.uploads import save_body

router = APIRouter(prefix="/reference-jobs", tags=["references"])

JobId = Annotated[str, Path(pattern=JOB_ID_PATTERN, description="Job id, 32 hex digits.")]
# Any content type is read the same: the container is told from the first bytes.
_VIDEO_BODY = {"requestBody": {"required": True, "description": "The video file: MP4, MOV, Matroska, WebM or AVI.",
                               "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                   "format": "binary"}}}}}


def _errors(*statuses: int) -> dict:
    return {s: {"model": ErrorOut} for s in statuses}


def job_event(job: dict) -> ReferenceJobEvent:
    """The ``reference_job`` event of a job (a ``ReferenceJob`` dump)."""
    return ReferenceJobEvent(job=job)


@router.post("", status_code=202, response_model=ReferenceJob, openapi_extra=_VIDEO_BODY,
             responses=_errors(413, 415, 422, 503), dependencies=[VIEWER],
             summary="Build a reference from a video (body); a worker takes the job")
async def submit_job(request: Request, response: Response, jobs: JobsDep, bus: BusDep, settings: SettingsDep,
                     name: Annotated[str, Query(pattern=REFERENCE_NAME_PATTERN,
                                                description="Reference to build; an existing one is rebuilt.")],
                     source: Annotated[str, Query(max_length=200, description="The video's file name.")] = "video"
                     ) -> dict:
    limit = settings.max_video_bytes
    incoming = jobs.video_dir / f".incoming-{uuid.uuid4().hex}"
    size = await save_body(request, incoming, limit, lambda size=None: ApiError(
        413, "video_too_large", f"a video may have at most {limit} bytes", limit=limit, size=size))
    try:
        if size == 0:
            raise ApiError(422, "empty_video", "the body is empty: send the video file")
        head = await run_in_threadpool(_head, incoming)
        if container_of(head) is None:
            raise ApiError(415, "unsupported_media_type", "the body is not an MP4, MOV, Matroska, WebM or AVI "
                           "video", first_bytes=head.hex())
        try:
            job = await run_in_threadpool(jobs.submit, name, source, incoming)
        except (OSError, sqlite3.Error) as exc:
            raise ApiError(503, "job_not_stored", f"the hub could not queue the job: {exc}") from None
    finally:
        incoming.unlink(missing_ok=True)  # gone already once the queue took it over
    bus.emit(job_event(job))
    response.headers["Location"] = f"/api/v1/reference-jobs/{job['job_id']}"
    return job


def _head(path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(SNIFF_BYTES)


@router.get("", response_model=ReferenceJobList, dependencies=[READER], summary="Recent build jobs, newest first")
async def list_jobs(jobs: JobsDep, limit: Annotated[int, Query(ge=1, le=50)] = 20) -> dict:
    return {"jobs": await run_in_threadpool(jobs.list, limit)}


@router.get("/{job_id}", response_model=ReferenceJob, responses=_errors(404), dependencies=[READER],
            summary="One build job")
async def get_job(job_id: JobId, jobs: JobsDep) -> dict:
    job = await run_in_threadpool(jobs.get, job_id)
    if job is None:
        raise _no_job(job_id)
    return job


def _no_job(job_id: str) -> ApiError:
    return ApiError(404, "job_not_found", f"no reference job {job_id!r}", job_id=job_id)


@router.post("/claim", response_model=ReferenceJob, responses={204: {"description": "No job is queued."}},
             dependencies=[WORKER], summary="Take the oldest queued job (exactly one worker gets each)")
async def claim_job(body: JobClaim, jobs: JobsDep, bus: BusDep) -> dict | Response:
    job = await run_in_threadpool(jobs.claim, body.worker_id)
    if job is None:
        return Response(status_code=204)
    bus.emit(job_event(job))
    return job


@router.get("/{job_id}/video", response_class=FileResponse, responses=_errors(404), dependencies=[WORKER],
            summary="The job's video, while the job runs")
async def get_job_video(job_id: JobId, jobs: JobsDep) -> FileResponse:
    path = await run_in_threadpool(jobs.video, job_id)
    if path is None:
        raise ApiError(404, "video_not_found", f"job {job_id!r} has no video (unknown or ended)", job_id=job_id)
    return FileResponse(path, media_type="application/octet-stream")


async def _report(bus: BusDep, call, job_id: str, *args) -> dict:
    try:
        job = await run_in_threadpool(call, job_id, *args)
    except JobNotFound:
        raise _no_job(job_id) from None
    except JobConflict as exc:
        raise ApiError(409, "job_not_held", str(exc), job_id=job_id, state=exc.job["state"],
                       worker_id=exc.job["worker_id"]) from None
    bus.emit(job_event(job))
    return job


@router.post("/{job_id}/progress", response_model=ReferenceJob, responses=_errors(404, 409, 422),
             dependencies=[WORKER], summary="Report frames done / total; renews the worker's hold on the job")
async def report_progress(job_id: JobId, body: JobProgress, jobs: JobsDep, bus: BusDep) -> dict:
    return await _report(bus, jobs.progress, job_id, body.worker_id, body.frames_done, body.frames_total)


@router.post("/{job_id}/done", response_model=ReferenceJob, responses=_errors(404, 409, 422),
             dependencies=[WORKER], summary="The reference is built and stored (PUT /references/{name} first)")
async def report_done(job_id: JobId, body: JobDone, jobs: JobsDep, references: ReferencesDep,
                      bus: BusDep) -> dict:
    job = await run_in_threadpool(jobs.get, job_id)
    if job is None:
        raise _no_job(job_id)
    meta = await run_in_threadpool(references.get, job["name"])
    if meta is None or meta["content_hash"] != body.content_hash:
        raise ApiError(409, "reference_not_stored", f"reference {job['name']!r} with that content hash is not "
                       "stored: upload it first", name=job["name"], content_hash=body.content_hash)
    return await _report(bus, jobs.finish, job_id, body.worker_id, body.content_hash)


@router.post("/{job_id}/failed", response_model=ReferenceJob, responses=_errors(404, 409, 422),
             dependencies=[WORKER], summary="The job failed (e.g. no complete rep in the video)")
async def report_failed(job_id: JobId, body: JobFailure, jobs: JobsDep, bus: BusDep) -> dict:
    return await _report(bus, jobs.fail, job_id, body.worker_id, body.code, body.message)
