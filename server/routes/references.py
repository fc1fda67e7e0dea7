"""The stored references: listed, read (metadata, per-frame data, pictures) and uploaded by workers."""

from __future__ import annotations

import sqlite3
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from formsync.reference_bundle import BundleError, unpack
from formsync.wire.errors import ErrorOut
from formsync.wire.events import ReferenceEvent
from formsync.wire.references import REFERENCE_NAME_PATTERN, ReferenceList, ReferenceMeta
from server.auth import READER, WORKER
from server.deps import BusDep, ReferencesDep, SettingsDep
from server.errors import ApiError
from server.references.store import Blob
from server.uploads import read_body

router = APIRouter(prefix="/references", tags=["references"])

ReferenceName = Annotated[str, Path(pattern=REFERENCE_NAME_PATTERN,
                                    description="Reference name, `^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$`.")]
_ERRORS = {s: {"model": ErrorOut} for s in (404, 422)}
_ZIP_BODY = {"requestBody": {"required": True, "content": {
    "application/zip": {"schema": {"type": "string", "format": "binary"}}}}}


def not_found(name: str) -> ApiError:
    return ApiError(404, "reference_not_found", f"no reference {name!r}", name=name)


@router.get("", response_model=ReferenceList, dependencies=[READER], summary="Every stored reference")
async def list_references(references: ReferencesDep) -> dict:
    listed, chosen = await run_in_threadpool(lambda: (references.list(), references.chosen()))
    return {"references": listed, "chosen": chosen}


@router.get("/{name}", response_model=ReferenceMeta, responses=_ERRORS, dependencies=[READER],
            summary="A reference's metadata and content hash")
async def get_reference(name: ReferenceName, references: ReferencesDep) -> dict:
    meta = await run_in_threadpool(references.get, name)
    if meta is None:
        raise not_found(name)
    return meta


def _etag(value: str) -> str:
    return f'"{value}"'


def _blob_response(request: Request, blob: Blob, tag: str, media_type: str) -> Response:
    """The blob with a strong ETag; 304 when the caller already holds it (RFC 9110 §13.1.2)."""
    etag = _etag(tag)
    headers = {"ETag": etag, "Cache-Control": "no-cache", "X-Content-Hash": blob.content_hash}
    wanted = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
    if etag in wanted or "*" in wanted:
        return Response(status_code=304, headers=headers)
    return Response(blob.body, media_type=media_type, headers=headers)


@router.get("/{name}/data", responses={200: {"content": {"application/octet-stream": {}}}, **_ERRORS},
            response_class=Response, dependencies=[READER],
            summary="A reference's per-frame data (npz); ETag = its content hash")
async def get_reference_data(name: ReferenceName, request: Request, references: ReferencesDep) -> Response:
    blob = await run_in_threadpool(references.data, name)
    if blob is None:
        raise not_found(name)
    return _blob_response(request, blob, blob.content_hash, "application/octet-stream")


@router.get("/{name}/frames/{seq}.jpg", responses={200: {"content": {"image/jpeg": {}}}, **_ERRORS},
            response_class=Response, dependencies=[READER],
            summary="A reference's picture of one video frame")
async def get_reference_picture(name: ReferenceName, seq: Annotated[int, Path(ge=0, le=10_000_000)],
                                request: Request, references: ReferencesDep) -> Response:
    blob = await run_in_threadpool(references.picture, name, seq)
    if blob is None:
        if await run_in_threadpool(references.get, name) is None:
            raise not_found(name)
        raise ApiError(404, "picture_not_found", f"reference {name!r} has no picture of frame {seq}",
                       name=name, seq=seq)
    return _blob_response(request, blob, f"{blob.content_hash}-{seq}", "image/jpeg")


@router.put("/{name}", status_code=201, response_model=ReferenceMeta, openapi_extra=_ZIP_BODY,
            responses={200: {"model": ReferenceMeta, "description": "Replaced a reference of that name."},
                       **{s: {"model": ErrorOut} for s in (413, 415, 422, 503)}},
            dependencies=[WORKER], summary="Store a built reference (a bundle), replacing one of that name whole")
async def put_reference(name: ReferenceName, request: Request, references: ReferencesDep, bus: BusDep,
                        settings: SettingsDep, response: Response) -> dict:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/zip":
        raise ApiError(415, "unsupported_media_type", "a reference is uploaded as an application/zip bundle",
                       content_type=kind)
    limit = settings.max_reference_bytes
    body = await read_body(request, limit, lambda size=None: ApiError(
        413, "reference_too_large", f"a reference bundle may have at most {limit} bytes", limit=limit, size=size))
    try:
        # Unpacking inflates and checks every array: not on the loop that carries the frames.
        bundle = await run_in_threadpool(unpack, body, max_unpacked_bytes=4 * limit)
    except BundleError as exc:
        raise ApiError(422, exc.code, exc.message, **exc.details) from None
    if bundle.content.name != name:
        raise ApiError(422, "name_mismatch", f"the bundle holds reference {bundle.content.name!r}, not {name!r}",
                       name=name, bundle_name=bundle.content.name)
    replaced = await run_in_threadpool(references.get, name) is not None
    try:
        meta = await run_in_threadpool(references.put, bundle)
    except (OSError, sqlite3.Error) as exc:
        raise ApiError(503, "reference_not_stored", f"the hub could not store the reference: {exc}",
                       name=name) from None
    bus.emit(ReferenceEvent(change="stored", name=name, content_hash=meta["content_hash"],
                            chosen=await run_in_threadpool(references.chosen)))
    if replaced:
        response.status_code = 200
    return meta
