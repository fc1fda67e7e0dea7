"""Reading request bodies with a size limit, without buffering more than the limit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from starlette.requests import Request

from server.errors import ApiError


def _declared(request: Request) -> int | None:
    declared = request.headers.get("content-length")
    return int(declared) if declared and declared.isdigit() else None


async def read_body(request: Request, limit: int, too_large: Callable[..., ApiError]) -> bytes:
    """The body, refused (``too_large(size)`` or ``too_large()``) as soon as it passes ``limit``
    bytes: no 8 GiB buffering."""
    declared = _declared(request)
    if declared is not None and declared > limit:
        raise too_large(declared)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


async def save_body(request: Request, target: Path, limit: int, too_large: Callable[..., ApiError]) -> int:
    """Stream the body into file ``target`` (written off the event loop, in ~1 MiB pieces) and
    return its size; refused like ``read_body`` past ``limit``, leaving no file behind."""
    declared = _declared(request)
    if declared is not None and declared > limit:
        raise too_large(declared)
    size = pending_size = 0
    pending: list[bytes] = []
    out = await asyncio.to_thread(open, target, "wb")
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large()
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size >= 1 << 20:
                await asyncio.to_thread(out.write, b"".join(pending))
                pending, pending_size = [], 0
        if pending:
            await asyncio.to_thread(out.write, b"".join(pending))
    except BaseException:
        await asyncio.to_thread(out.close)
        target.unlink(missing_ok=True)
        raise
    await asyncio.to_thread(out.close)
    return size
