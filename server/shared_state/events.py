"""Events across hub processes over Redis pub/sub: every hub's subscribers see every hub's events.

Each event is published once, as the JSON a WebSocket subscriber gets, on one channel; events
carry ids and times, never a JPEG (a ``frame`` event names the frame, readers fetch it from the
shared store; with the rings on this same Redis the frame store's put script publishes it, in
the frame's own round trip: ``server.shared_state.frames``). Every hub, the publishing one
included, delivers what it reads from the channel to its own subscribers, so all hubs' subscribers
see the same order.

What each hub derives from the frames (``camera_online``, ``camera_stale``, ``sync_set``) is not
published: every hub derives it from the ``frame`` events (``IngestService.follow``) and tells only
its own subscribers, so each subscriber gets it once whichever hub took the frames.

A subscriber connection that Redis closes (``client-output-buffer-limit pubsub``: this hub read
too slowly) or loses is opened again with backoff (50 ms doubling to 1 s); the hub then resyncs:
``resync`` (the ingest's) announces every camera's newest frame to its subscribers as a ``frame``
event, so a worker that missed frames analyses the newest one. Events published while Redis is
unreachable are dropped and counted (``lost``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.retry import Retry

from server.events import EventBus
from server.shared_state.connection import REDIS_DOWN

log = logging.getLogger(__name__)

LOCAL_TYPES = frozenset({"camera_online", "camera_stale", "sync_set"})
"""Event types each hub derives from the frame events itself and never publishes."""

_BATCH = 256  # publishes per pipeline round trip
_BACKOFF_S = (0.05, 1.0)


@dataclass(eq=False)
class RedisEventBus(EventBus):
    """``EventBus`` whose events go through a Redis channel to the subscribers of every hub.

    Args (besides ``queue_size``):
        client: the hub's Redis client (``connect``), for publishing.
        url: the same Redis, for this hub's subscriber connection (its own, never retried silently:
            a lost connection must be seen to resync).
        channel: the pub/sub channel.
        outbox_max: events kept while Redis is slow or down before the oldest is dropped.

    ``on_frame(event, deliver)`` (the ingest's ``follow``) handles each ``frame`` event and
    ``resync()`` runs after every reconnection; both are set by the app. ``run()`` is the
    publisher and the subscriber, for the lifespan.
    """

    client: Any = None
    url: str = ""
    channel: str = "formsync:events"
    outbox_max: int = 10_000
    on_frame: Callable[[dict, Callable[[dict], None]], None] | None = None
    resync: Callable[[], Awaitable[None]] | None = None
    lost: int = 0
    reconnects: int = 0
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    _outbox: deque = field(default_factory=deque)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def publish(self, event: dict[str, Any]) -> None:
        """Queue ``event`` for the channel (never waits); derived types go to this hub's subscribers."""
        if event.get("type") in LOCAL_TYPES:
            self.deliver(event)
            return
        if len(self._outbox) >= self.outbox_max:
            self._outbox.popleft()
            self.lost += 1
        self._outbox.append(json.dumps(event, separators=(",", ":")))
        self._wake.set()

    def deliver(self, event: dict[str, Any]) -> None:
        """Hand ``event`` to this hub's subscribers (``EventBus.publish``)."""
        super().publish(event)

    def _dispatch(self, data: bytes) -> None:
        try:
            event = json.loads(data)
        except ValueError:
            log.warning("events: dropped a message that is not JSON from %s", self.channel)
            return
        if event.get("type") == "frame" and self.on_frame is not None:
            self.on_frame(event, self.deliver)
        else:
            self.deliver(event)

    @contextlib.asynccontextmanager
    async def run(self) -> AsyncIterator[None]:
        """Publish and subscribe while the context is open; returns once subscribed (or after 2 s)."""
        tasks = [asyncio.create_task(self._publish_loop(), name="events-publish"),
                 asyncio.create_task(self._read_loop(), name="events-subscribe")]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), 2.0)
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _publish_loop(self) -> None:
        down = False
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._outbox:
                batch = [self._outbox.popleft() for _ in range(min(len(self._outbox), _BATCH))]
                try:
                    async with self.client.pipeline(transaction=False) as pipe:
                        for message in batch:
                            pipe.publish(self.channel, message)
                        await pipe.execute()
                    if down:
                        down = False
                        log.info("events: publishing to Redis again")
                except Exception as exc:  # REDIS_DOWN, or anything else: the loop must go on
                    self.lost += len(batch)
                    if not down:
                        down = True
                        log.warning("events: cannot publish to Redis, events dropped until it can: %r", exc)
                    await asyncio.sleep(_BACKOFF_S[1])

    async def _read_loop(self) -> None:
        backoff, first = _BACKOFF_S[0], True
        while True:
            subscriber = aioredis.Redis.from_url(self.url, retry=Retry(NoBackoff(), 0), retry_on_error=[],
                                                 socket_connect_timeout=2.0, health_check_interval=5)
            pubsub = subscriber.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if not first:
                    log.info("events: subscribed again, resyncing from the latest state")
                    if self.resync is not None:
                        await self.resync()
                first, backoff = False, _BACKOFF_S[0]
                self.connected.set()
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "message":
                        self._dispatch(message["data"])
            except Exception as exc:  # REDIS_DOWN, or anything else: the loop must go on
                if self.connected.is_set():
                    log.warning("events: subscriber connection lost (%r); reconnecting", exc)
                    self.reconnects += 1
                elif not isinstance(exc, REDIS_DOWN):
                    log.exception("events: subscribing failed")
                self.connected.clear()
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await subscriber.aclose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _BACKOFF_S[1])
