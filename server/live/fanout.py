"""From the hub's events to the live viewers' mailboxes."""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from server.background import background
from server.events import EventBus
from server.live.mailbox import Mailbox

log = logging.getLogger(__name__)

LIVE_EVENT_TYPES = frozenset({"frame", "sync_set", "analysis"})


@dataclass(eq=False)
class Viewer:
    """One open live socket: what it watches, its mailbox and what it was sent.

    Mailbox keys: ``("frame", camera_id)``, ``("sync",)`` and ``("analysis", camera_id)``, each holding
    its newest event; for frames and results the sender reads the camera's newest from the store
    when its turn comes, so the event only says that there is one.
    """

    viewer_id: str
    cameras: frozenset[str] = frozenset()
    sync: bool = False
    analysis: bool = False
    connected_time_ns: int = field(default_factory=time.time_ns)
    mailbox: Mailbox = field(default_factory=Mailbox)
    sent: int = 0

    def watch(self, cameras: frozenset[str], sync: bool, analysis: bool) -> None:
        self.cameras, self.sync, self.analysis = cameras, sync, analysis
        for camera_id in cameras:  # show what there is now, not only from the next frame on
            self.mailbox.prompt(("frame", camera_id))
            if analysis:
                self.mailbox.prompt(("analysis", camera_id))


class LiveFanout:
    """Follows ``frame``, ``sync_set`` and ``analysis`` events on the hub's bus and prompts every
    viewer watching that camera (or the sets). Never waits on a viewer: each has its own sender.
    Runs on the hub's event loop.
    """

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.viewers: dict[str, Viewer] = {}
        self._ids = itertools.count(1)
        # Counts of closed sockets, so the totals /metrics reports never go down when one closes.
        self._closed_sent = 0
        self._closed_dropped = 0

    def add(self) -> Viewer:
        viewer = Viewer(viewer_id=f"v{next(self._ids)}")
        self.viewers[viewer.viewer_id] = viewer
        return viewer

    def remove(self, viewer: Viewer) -> None:
        if self.viewers.pop(viewer.viewer_id, None) is not None:
            self._closed_sent += viewer.sent
            self._closed_dropped += viewer.mailbox.dropped

    def totals(self) -> tuple[int, int]:
        """``(sent, dropped)``: messages sent to and items replaced unsent in every viewer's
        mailbox since the hub started, open and closed sockets alike."""
        live = list(self.viewers.values())
        return (self._closed_sent + sum(v.sent for v in live),
                self._closed_dropped + sum(v.mailbox.dropped for v in live))

    def dispatch(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "sync_set":
            for v in self.viewers.values():
                if v.sync:
                    v.mailbox.put(("sync",), event)
            return
        camera_id = event.get("camera_id")
        key = ("frame" if kind == "frame" else "analysis", camera_id)
        for v in self.viewers.values():
            if camera_id in v.cameras and (kind == "frame" or v.analysis):
                v.mailbox.put(key, event)

    async def run(self) -> None:
        sub = self.bus.subscribe(LIVE_EVENT_TYPES)
        try:
            while True:
                event = await sub.get()
                try:
                    self.dispatch(event)
                except Exception:  # one odd event must not stop every live view
                    log.exception("live fan-out failed on %s", event.get("type"))
        finally:
            self.bus.unsubscribe(sub)


@contextlib.asynccontextmanager
async def run_fanout(fanout: LiveFanout) -> AsyncIterator[None]:
    async with background(fanout.run(), "live-fanout"):
        yield
