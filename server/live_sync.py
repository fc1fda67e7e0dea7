"""The hub's live synchroniser: matches every online camera's frames as they arrive."""

from __future__ import annotations

from collections.abc import Callable

from formsync.synchronizer import ApproximateTimeSync, SyncSet
from formsync.wire.events import SyncFrame, SyncSetEvent
from server.monitoring.metrics import HubMetrics
from server.store import Frame

INTERVAL_WINDOW = 30
"""Frame intervals per camera the synchroniser learns its lower bound from (about 1 s at 30 fps):
a set goes out as soon as every camera's frame of that moment is in, not one frame interval
later, when the next frame of the slowest camera would have confirmed it."""


class LiveSync:
    """Feeds each accepted frame to an ApproximateTime synchroniser over the online cameras,
    rebuilding it when the set of online cameras changes; publishes each set as a ``sync_set``
    event and records its spread. Runs on the hub's event loop.
    """

    def __init__(self, max_spread_ns: int, publish: Callable[[SyncSetEvent], None], metrics: HubMetrics) -> None:
        self.max_spread_ns = max_spread_ns
        self.publish = publish
        self.metrics = metrics
        self.online: set[str] = set()
        self._sync: ApproximateTimeSync[Frame] | None = None
        self._reported: dict[str, int] = {}

    def set_online(self, camera_id: str, online: bool) -> None:
        before = set(self.online)
        (self.online.add if online else self.online.discard)(camera_id)
        if self.online != before:
            self._flush_drops()
            cams = sorted(self.online)
            self._sync = ApproximateTimeSync(cams, self.max_spread_ns, interval_window=INTERVAL_WINDOW) \
                if len(cams) >= 2 else None
            self._reported = {}

    def add(self, frame: Frame) -> list[SyncSet[Frame]]:
        if self._sync is None or frame.camera_id not in self.online:
            return []
        sets = self._sync.add(frame.camera_id, frame)
        for s in sets:
            self.metrics.sync_spread.observe(s.spread_ns / 1e9)
        if sets:
            newest = sets[-1]
            self.publish(SyncSetEvent(
                spread_ms=round(newest.spread_ns / 1e6, 3),
                frames=[SyncFrame(camera_id=f.camera_id, seq=f.seq, capture_time_ns=f.capture_time_ns,
                                  source_frame=f.source_frame) for f in newest.frames]))
            self._flush_drops()
        return sets

    def _flush_drops(self) -> None:
        if self._sync is None:
            return
        for reason, n in self._sync.dropped.items():
            new = n - self._reported.get(reason, 0)
            if new:
                self.metrics.sync_dropped.labels(reason).inc(new)
                self._reported[reason] = n
