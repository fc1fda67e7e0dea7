"""Stale analysis results: a camera whose newest result is older than ``analysis_stale_after_s``
(hub receive time) is reported stale, e.g. because its analysis worker died or fell far behind.

``GET /api/v1/cameras/{id}/analysis`` carries ``stale`` and ``age_ms`` on every answer; this watcher
also publishes ``{"type": "analysis_stale", "camera_id", "last_result_ns", "time_ns"}`` once when a
camera turns stale, so subscribers (the dashboard) need not poll. The next ``analysis`` event of
that camera means it is fresh again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from formsync.wire.events import AnalysisStaleEvent
from server.background import background
from server.events import EventBus
from server.results import LatestResults, StoredResult
from server.shared_state.connection import REDIS_DOWN

log = logging.getLogger(__name__)


def result_age(item: StoredResult, now_ns: int, stale_after_s: float) -> tuple[float, bool]:
    """(age in ms since the hub received ``item``, whether that is beyond ``stale_after_s``)."""
    age_ns = now_ns - item.hub_receive_time_ns
    return age_ns / 1e6, age_ns > stale_after_s * 1e9


class AnalysisStaleness:
    """Args:
        results: the hub's latest results.
        bus: where ``analysis_stale`` events go.
        stale_after_s: age beyond which a result is stale, s.
    """

    def __init__(self, results: LatestResults, bus: EventBus, stale_after_s: float) -> None:
        self.results = results
        self.bus = bus
        self.stale_after_s = stale_after_s
        self._stale: set[str] = set()

    async def check(self, now_ns: int | None = None) -> list[str]:
        """Publish ``analysis_stale`` for cameras that turned stale since the last check; returns them."""
        now_ns = time.time_ns() if now_ns is None else now_ns
        newly = []
        for item in await self.results.all():
            _, stale = result_age(item, now_ns, self.stale_after_s)
            if not stale:
                self._stale.discard(item.camera_id)
            elif item.camera_id not in self._stale:
                self._stale.add(item.camera_id)
                newly.append(item.camera_id)
                log.warning("analysis of camera %s stale: no result for %.1f s", item.camera_id,
                            (now_ns - item.hub_receive_time_ns) / 1e9)
                self.bus.emit(AnalysisStaleEvent(camera_id=item.camera_id,
                                                 last_result_ns=item.hub_receive_time_ns, time_ns=now_ns))
        return newly

    async def watch(self, interval_s: float = 0.25) -> None:
        while True:
            try:
                await self.check()
            except REDIS_DOWN as exc:  # results in Redis unreachable: the next check tries again
                log.warning("analysis staleness not checked, Redis unavailable: %s", exc)
            except Exception:  # a bug here must not stop the watcher for good
                log.exception("analysis staleness check failed")
            await asyncio.sleep(interval_s)


@contextlib.asynccontextmanager
async def watch_analysis_staleness(app) -> AsyncIterator[AnalysisStaleness]:
    """Run the watcher on the hub's loop for the lifespan (``app.state``: results, bus, settings)."""
    watcher = AnalysisStaleness(app.state.results, app.state.bus, app.state.settings.analysis_stale_after_s)
    async with background(watcher.watch(), "analysis-stale-watcher"):
        yield watcher
