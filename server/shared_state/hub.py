"""What a hub opens for its frames and events: embedded, or shared in Redis when ``redis_url`` is set.

``frames_and_events`` sets ``app.state.redis`` (the process's Redis client for the shared state, or
None), ``app.state.frames_redis`` (the one the frame rings live in: the same client unless
``frames_redis_url`` names another Redis), ``app.state.store`` and ``app.state.bus``;
``follow_frames`` runs a shared bus once the ingest that follows its frame events exists.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator

from fastapi import FastAPI

from server.events import EventBus
from server.settings import HubSettings
from server.store import FrameStore


@contextlib.asynccontextmanager
async def frames_and_events(app: FastAPI, settings: HubSettings, store: FrameStore | None) -> AsyncIterator[None]:
    """Open the store and bus for one lifespan (a given ``store`` is used as it is)."""
    if settings.redis_url is None:
        app.state.redis = app.state.frames_redis = None
        app.state.store = store
        app.state.bus = EventBus(queue_size=settings.event_queue_size)
        yield
        return
    from server.shared_state.connection import connect
    from server.shared_state.events import RedisEventBus
    from server.shared_state.frames import RedisFrameStore

    app.state.redis = client = connect(settings.redis_url)
    frames = connect(settings.frames_redis_url) if settings.frames_redis_url else client
    app.state.frames_redis = frames
    app.state.bus = bus = RedisEventBus(queue_size=settings.event_queue_size, client=client, url=settings.redis_url)
    # Rings on the events' server: the put script publishes each frame event in the same round trip.
    app.state.store = store or RedisFrameStore(frames, settings.ring_seconds, settings.ring_max_frames,
                                               events_channel=None if frames is not client else bus.channel)
    try:
        yield
    finally:
        await client.aclose()
        if frames is not client:
            await frames.aclose()


@contextlib.asynccontextmanager
async def follow_frames(app: FastAPI) -> AsyncIterator[None]:
    """With a shared bus: publish, subscribe and hand frame events to ``app.state.ingest``."""
    bus, ingest = app.state.bus, app.state.ingest
    if not hasattr(bus, "run"):
        yield
        return
    bus.on_frame = ingest.follow
    bus.resync = functools.partial(ingest.resync, bus.deliver)
    async with bus.run():
        yield
