"""Background work that lets the hub notice its neighbours' failures and recover from its own:

- analysis results that stopped arriving (a dead worker): ``analysis_stale`` (server/analysis_stale.py);
- closed sets the database refused (disk full, locked): written again every ``SET_RETRY_S`` until
  they are saved, so they reach the disk even if nobody saves or reads another set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool

from server.analysis_stale import watch_analysis_staleness
from server.set_store import SetStore

log = logging.getLogger(__name__)

SET_RETRY_S = 5.0


async def retry_unsaved_sets(sets: SetStore, interval_s: float = SET_RETRY_S) -> None:
    """Until cancelled: while sets wait in memory, try to write them every ``interval_s``."""
    while True:
        await asyncio.sleep(interval_s)
        if sets.unsaved:
            try:
                error = await run_in_threadpool(sets.retry)  # SQLite blocks: off the loop
            except Exception:  # a bug here must not end the retries
                log.exception("retrying unsaved sets failed")
                continue
            if error is None:
                log.info("unsaved sets written to the database")


@contextlib.asynccontextmanager
async def run_recovery(app, set_retry_s: float = SET_RETRY_S) -> AsyncIterator[None]:
    """For the hub's lifespan (``app.state``: results, bus, settings, sets)."""
    retry = asyncio.create_task(retry_unsaved_sets(app.state.sets, set_retry_s), name="set-retry")
    try:
        async with watch_analysis_staleness(app):
            yield
    finally:
        retry.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await retry
