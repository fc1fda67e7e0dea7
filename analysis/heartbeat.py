"""The analysis worker's heartbeat: per camera, analysis fps, latency, analysed and skipped frames,
beside the machine's and the process's health (``formsync.heartbeat``)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from formsync.heartbeat import DEFAULT_INTERVAL_S, HeartbeatSender, HeartbeatSource, process_id
from formsync.wire.monitoring import AnalysisLink, WorkerStatus

if TYPE_CHECKING:
    from analysis.worker import AnalysisWorker


class AnalysisRates:
    """Builds the ``analysis`` field from the worker's camera tracks and the ``worker`` field from
    its link to the hub (``formsync.wire.monitoring``). Called on the worker's event
    loop (the tracks are loop-owned); rates are over the time since the previous call."""

    def __init__(self, worker: AnalysisWorker, clock=time.monotonic) -> None:
        self.worker = worker
        self._clock = clock
        self._last: dict[str, tuple[float, int]] = {}

    def __call__(self) -> dict[str, Any]:
        now = self._clock()
        out = []
        for cam, track in list(self.worker.tracks.items()):
            if cam not in self.worker.leases.held:  # another worker reports it
                continue
            t0, analysed0 = self._last.get(cam, (None, track.analysed))
            self._last[cam] = (now, track.analysed)
            dt = now - t0 if t0 is not None else 0.0
            lat = track.latencies_ms[-300:]
            p50, p95 = (round(float(v), 3) for v in np.percentile(lat, [50, 95])) if lat else (None, None)
            out.append(AnalysisLink(
                camera_id=cam, analysis_fps=round((track.analysed - analysed0) / dt, 2) if dt > 0 else 0.0,
                analysed_total=track.analysed, skipped_total=track.skipped, rejected_total=track.rejected,
                latency_p50_ms=p50, latency_p95_ms=p95, busy=track.busy))
        w = self.worker
        status = WorkerStatus(
            following=w.following, follow_error=(w.follow_error or "")[:500] or None,
            follower_restarts_total=w.follower_restarts, bad_events_total=w.bad_events,
            sets_pending=w.sets_pending, sets_sent_total=sum(o.sent for o in w.outboxes.values()))
        return {"analysis": out, "worker": status}


async def send_heartbeats(worker: AnalysisWorker, interval_s: float = DEFAULT_INTERVAL_S,
                          goodbye: bool = True) -> None:
    """Post the worker's heartbeats until cancelled (run it as a task beside ``worker.run``); on
    cancellation, tell the hub the stop is deliberate unless ``goodbye`` is False."""
    source = await asyncio.to_thread(  # psutil baselines are /proc reads
        HeartbeatSource, process_id("worker", worker.worker_id), "worker", build=AnalysisRates(worker),
        interval_s=interval_s)
    await HeartbeatSender(source, worker.hub_urls[0], worker.token,
                          fallback_hub_urls=worker.hub_urls[1:]).serve(goodbye=goodbye)
