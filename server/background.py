"""A coroutine run as a task for the length of a block: how the hub's lifespan runs its watchers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine


@contextlib.asynccontextmanager
async def background(coro: Coroutine, name: str) -> AsyncIterator[asyncio.Task]:
    """Run ``coro`` as task ``name`` on the running loop; when the block ends it is cancelled and
    awaited, so nothing of it runs past the block."""
    task = asyncio.create_task(coro, name=name)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
