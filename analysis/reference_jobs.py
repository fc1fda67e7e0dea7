"""Reference build jobs on a worker: take one from the hub, build it, report progress and the outcome.

The hub queues a job when the Coach page uploads a video (``server/references/jobs.py``); every
worker hears of it (``reference_job`` event) and asks for it, and the hub gives it to exactly one.
That worker downloads the video, builds the reference with MediaPipe in a thread of its own
(``ReferenceLibrary.build``, in a temporary library), reports frames done / total every
``PROGRESS_S`` (which also tells the hub it is still at it), uploads the bundle and reports the job
done, or failed: ``no_rep_found`` (nothing to score against), ``video_unreadable``, ``build_failed``.
If the hub gives the job to another worker meanwhile (this one looked lost), the build stops at
its next frame and nothing is uploaded.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import threading
from pathlib import Path

from analysis.reference import NoRepFound, ReferenceLibrary
from formsync.hub_client import HubClient, HubRejected, HubUnreachable
from formsync.reference_bundle import pack_folder
from formsync.wire.references import ReferenceJob

log = logging.getLogger("formsync.worker.reference_jobs")

PROGRESS_S = 0.5
"""Seconds between progress reports: a smooth bar on the Coach page at two small requests a second."""
VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm"}


class JobAbandoned(Exception):
    """The hub gave the job to another worker: stop building it."""


class ReferenceBuilder:
    """Builds the jobs this worker takes, one at a time (a build keeps a core busy for its length).

    Args:
        worker_id: the id the hub holds the job under.
        progress_s: seconds between progress reports.
    """

    def __init__(self, worker_id: str, progress_s: float = PROGRESS_S) -> None:
        self.worker_id = worker_id
        self.progress_s = progress_s
        self.built = 0
        self.failed = 0
        self._running = False
        self._again = False

    async def take_jobs(self, client: HubClient) -> None:
        """Claim and build queued jobs until none is left. A call while a build runs only asks the
        running loop to look once more, so a burst of events costs one more claim."""
        if self._running:
            self._again = True
            return
        self._running = True
        try:
            while True:
                self._again = False
                job = await client.claim_reference_job(self.worker_id)
                if job is None:
                    if not self._again:
                        return
                    continue
                await self.build(client, job)
        except (HubUnreachable, HubRejected) as exc:
            log.warning("taking reference jobs stopped: %s", exc)
        finally:
            self._running = False

    async def build(self, client: HubClient, job: ReferenceJob) -> None:
        """Build ``job`` and report its outcome (errors of the build itself are reported as the
        job's failure; a hub that cannot be reached raises, and the job's lease runs out)."""
        log.info("building reference %r from %s (job %s)", job.name, job.source, job.job_id)
        with tempfile.TemporaryDirectory(prefix="formsync-reference-job-") as tmp:
            suffix = Path(job.source).suffix.lower()
            video = Path(tmp) / f"video{suffix if suffix in VIDEO_SUFFIXES else '.mp4'}"
            await client.download_job_video(job.job_id, video)
            library = ReferenceLibrary(Path(tmp) / "library")
            progress = [0, 0]
            abandon = threading.Event()

            def on_progress(done: int, total: int) -> None:
                progress[:] = done, total
                if abandon.is_set():
                    raise JobAbandoned

            building = asyncio.ensure_future(asyncio.to_thread(library.build, video, job.name,
                                                               on_progress=on_progress))
            try:
                await self._report_progress(client, job, building, progress)
            except HubRejected as exc:  # job_not_held: another worker has it now
                abandon.set()
                log.warning("reference job %s is no longer ours (%s); stopping its build", job.job_id, exc)
                await asyncio.gather(building, return_exceptions=True)
                return
            except BaseException:
                abandon.set()
                await asyncio.gather(building, return_exceptions=True)
                raise
            code, message = None, ""
            try:
                building.result()
            except NoRepFound as exc:
                code, message = "no_rep_found", str(exc)
            except (FileNotFoundError, ValueError) as exc:
                code, message = "video_unreadable", f"the video does not decode: {exc}"
            except Exception as exc:
                log.exception("building reference %r failed", job.name)
                code, message = "build_failed", f"{type(exc).__name__}: {exc}"
            if code is None:
                bundle = await asyncio.to_thread(pack_folder, library.path(job.name))
                try:
                    meta = await client.put_reference(job.name, bundle)
                except HubRejected as exc:
                    code, message = "build_failed", f"the hub refused the reference: {exc}"
        if code is not None:
            self.failed += 1
            log.info("reference job %s failed: %s: %s", job.job_id, code, message)
            await client.fail_job(job.job_id, self.worker_id, code, message)
            return
        self.built += 1
        await client.finish_job(job.job_id, self.worker_id, meta.content_hash)
        log.info("reference %r built and stored (hash %s)", job.name, meta.content_hash[:12])

    async def _report_progress(self, client: HubClient, job: ReferenceJob, building: asyncio.Future,
                               progress: list[int]) -> None:
        """Report progress every ``progress_s`` until the build ends; the last figures once more."""
        while True:
            done, _ = await asyncio.wait([building], timeout=self.progress_s)
            await client.report_job_progress(job.job_id, self.worker_id, progress[0], progress[1] or None)
            if done:
                return
