"""Background work that lets the hub notice its neighbours' failures and recover from its own:

- analysis results that stopped arriving (a dead worker): ``analysis_stale`` (server/analysis_stale.py);
- closed sets the database refused (disk full, locked): written again every ``SET_RETRY_S`` until
  they are saved, so they reach the disk even if nobody saves or reads another set;
- reference build jobs whose worker stopped answering: queued again for another worker, or failed
  once they have been given out ``FORMSYNC_HUB_REFERENCE_JOB_ATTEMPTS`` times
  (server/references/jobs.py), each change announced as a ``reference_job`` event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool

from server.analysis_stale import watch_analysis_staleness
from server.events import EventBus
from server.references.jobs import ReferenceJobQueue
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


async def expire_reference_jobs(jobs: ReferenceJobQueue, bus: EventBus, interval_s: float) -> None:
    """Until cancelled: every ``interval_s``, give lost jobs to another worker (or fail them)."""
    from server.routes.reference_jobs import job_event

    while True:
        await asyncio.sleep(interval_s)
        try:
            changed = await run_in_threadpool(jobs.expire)
        except Exception:  # a bug here must not end the checks
            log.exception("checking reference jobs failed")
            continue
        for job in changed:
            bus.emit(job_event(job))


@contextlib.asynccontextmanager
async def run_recovery(app, set_retry_s: float = SET_RETRY_S) -> AsyncIterator[None]:
    """For the hub's lifespan (``app.state``: results, bus, settings, sets, reference_jobs)."""
    # A quarter of the lease: a lost job waits at most 1.25 leases for another worker.
    lease_check_s = app.state.settings.reference_job_lease_s / 4
    tasks = [asyncio.create_task(retry_unsaved_sets(app.state.sets, set_retry_s), name="set-retry"),
             asyncio.create_task(expire_reference_jobs(app.state.reference_jobs, app.state.bus, lease_check_s),
                                 name="reference-job-leases")]
    try:
        async with watch_analysis_staleness(app):
            yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
