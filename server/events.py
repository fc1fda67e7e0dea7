"""Event fan-out to WebSocket subscribers, where a slow subscriber only ever loses its own events.

Each subscriber has a bounded queue; publishing never waits: when a subscriber's queue is full
its oldest event is dropped (and counted), so it is sent only the newest events and never
delays the ingest or the other subscribers. All methods run on the hub's event loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from formsync.wire.base import Wire


@dataclass(eq=False)
class Subscription:
    """One subscriber's queue. ``dropped`` counts events it lost by being slow."""

    queue: asyncio.Queue
    types: frozenset[str] | None = None
    dropped: int = 0

    async def get(self) -> dict[str, Any]:
        return await self.queue.get()


@dataclass
class EventBus:
    """Publish JSON-ready events to every current subscriber.

    Args:
        queue_size: events buffered per subscriber before its oldest is dropped.
    """

    queue_size: int = 64
    _subs: set[Subscription] = field(default_factory=set)
    published: int = 0
    dropped: int = 0  # over all subscribers, past ones included (formsync_events_dropped_total)

    def subscribe(self, types: frozenset[str] | None = None) -> Subscription:
        sub = Subscription(queue=asyncio.Queue(maxsize=self.queue_size), types=types)
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    @property
    def backlog(self) -> int:
        """Events waiting in all subscribers' queues together (safe to read from any thread)."""
        return sum(s.queue.qsize() for s in tuple(self._subs))

    def listeners(self, kind: str) -> int:
        """Subscribers that asked for events of type ``kind`` by name (not those taking every type),
        e.g. the analysis workers for ``gaze_calibrate``."""
        return sum(1 for s in tuple(self._subs) if s.types is not None and kind in s.types)

    def emit(self, event: Wire) -> None:
        """Publish one of ``formsync.wire.events``' models: how the hub sends every event."""
        self.publish(event.model_dump(mode="json"))

    def publish(self, event: dict[str, Any]) -> None:
        """Publish a JSON-ready dict with a ``type`` as it is (``emit`` builds it from a model)."""
        self.published += 1
        kind = event.get("type")
        for sub in self._subs:
            if sub.types is not None and kind not in sub.types:
                continue
            q = sub.queue
            if q.full():
                q.get_nowait()
                sub.dropped += 1
                self.dropped += 1
            q.put_nowait(event)
