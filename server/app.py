"""The hub's app factory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from server.errors import RequestIdMiddleware, install_error_handlers
from server.ingest import IngestService
from server.leases import LeaseStore, open_lease_store
from server.limits import UploadLimits
from server.live.fanout import LiveFanout, run_fanout
from server.live.tokens import DisplayTokens
from server.live_sync import LiveSync
from server.monitoring.metrics import HubMetrics
from server.monitoring.monitor import host_cpu_percent, install_monitoring, run_monitor
from server.quality.service import AdaptiveQuality, run_adaptive_quality
from server.recovery import run_recovery
from server.references.jobs import ReferenceJobQueue, open_job_queue
from server.references.store import ReferenceStore, open_reference_store
from server.results import open_latest_results
from server.routes import api_router, health
from server.security import install_security
from server.set_store import open_set_store
from server.settings import HubSettings
from server.shared_state.connection import install_redis_errors
from server.shared_state.hub import follow_frames, frames_and_events
from server.store import FrameStore, InMemoryFrameStore


def create_app(settings: HubSettings | None = None, store: FrameStore | None = None,
               references: ReferenceStore | None = None, reference_jobs: ReferenceJobQueue | None = None,
               leases: LeaseStore | None = None) -> FastAPI:
    """Build the hub. Tests pass their own settings or store; nothing is created at import.

    The embedded store is built here (not in the lifespan) so it outlives lifespan restarts in tests
    and a caller can keep a handle on it; per-loop things (event bus, stale watcher) live in the
    lifespan, and so does the Redis one (``settings.redis_url``), whose connections belong to the loop.
    ``references`` and ``reference_jobs`` default to the embedded ones (SQLite in ``db_path``; files
    in ``reference_root``'s ``stored/`` and ``jobs/``), opened in the lifespan and closed with it;
    given ones are the caller's to close. ``leases`` defaults to Redis with ``redis_url``, else embedded.
    """
    settings = settings or HubSettings()
    if store is None and settings.redis_url is None:
        store = InMemoryFrameStore(settings.ring_seconds, settings.ring_max_frames)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with frames_and_events(app, settings, store):  # embedded, or Redis (server/shared_state)
            async with hub_running(app):
                yield

    @contextlib.asynccontextmanager
    async def hub_running(app: FastAPI) -> AsyncIterator[None]:
        bus = app.state.bus
        live_sync = LiveSync(int(settings.sync_max_spread_ms * 1e6), bus.emit, app.state.metrics)
        app.state.quality = quality = AdaptiveQuality(
            settings.quality_policy(), app.state.results, lambda: host_cpu_percent(app.state),
            interval_s=settings.quality_interval_s, analysis_stale_after_s=settings.analysis_stale_after_s,
            default_camera_fps=settings.default_camera_fps,
        ) if settings.quality_adaptive else None
        app.state.ingest = IngestService(
            app.state.store, bus, max_frame_bytes=settings.max_frame_bytes, stale_after_s=settings.stale_after_s,
            live_sync=live_sync, metrics=app.state.metrics, limits=UploadLimits.from_settings(settings),
            shared=app.state.redis is not None, quality=quality,
        )
        app.state.sets = open_set_store(settings.db_path, settings.redis_url)
        owned = []
        app.state.references = references
        if references is None:
            app.state.references = await asyncio.to_thread(open_reference_store, settings)
            owned.append(app.state.references)
        app.state.reference_jobs = reference_jobs
        if reference_jobs is None:
            app.state.reference_jobs = await asyncio.to_thread(open_job_queue, settings)
            owned.append(app.state.reference_jobs)
        app.state.live = LiveFanout(bus)
        watcher = asyncio.create_task(app.state.ingest.watch_stale(), name="stale-watcher")
        try:
            # Frame events from every hub (shared state only); heartbeats, lost processes, alerts
            # (server/monitoring/monitor.py).
            async with follow_frames(app), run_monitor(app), run_adaptive_quality(quality):
                async with run_recovery(app):  # stale results, unsaved sets, lost jobs (server/recovery.py)
                    async with run_fanout(app.state.live):  # browsers' live sockets (server/live/)
                        yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            # Its last write may wait on a locked database: not on the loop that closes connections.
            await asyncio.to_thread(app.state.sets.close)
            for closing in owned:
                await asyncio.to_thread(closing.close)
            if leases is None:
                await app.state.leases.close()
            await app.state.results.close()  # its connections belong to this loop

    app = FastAPI(
        title="FormSync hub",
        version="0.1.0",
        summary="Latest frame per camera, synchronised sets and events for the FormSync pipeline.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store  # a Redis one is opened with the lifespan
    app.state.leases = leases or open_lease_store(settings.redis_url)
    app.state.results = open_latest_results(settings.redis_url)
    app.state.metrics = HubMetrics()
    secret = settings.display_token_secret
    app.state.display_tokens = DisplayTokens(
        settings.display_token_ttl_s, secret.get_secret_value().encode() if secret else None)
    install_monitoring(app)
    install_error_handlers(app)
    if settings.redis_url:
        install_redis_errors(app)
    install_security(app, settings)  # tokens, CORS
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health.router)
    app.include_router(api_router)
    return app
