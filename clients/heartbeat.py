"""The camera client's heartbeat: per camera, capture and sent fps, drops, upload latency and clock
offset, beside the machine's and the process's health (``formsync.heartbeat``)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from clients.camera import CameraWorker
from clients.config import ClientConfig
from formsync.heartbeat import HeartbeatSender, HeartbeatSource, HeartbeatThread, process_id
from formsync.wire.monitoring import CameraLink


class CameraRates:
    """Builds the ``cameras`` field from the workers' counters. Rates are over the time since the
    previous call (one heartbeat interval), from counters only ever incremented."""

    def __init__(self, workers: Sequence[CameraWorker], clock=time.monotonic) -> None:
        self.workers = list(workers)
        self._clock = clock
        self._last: dict[str, tuple[float, int, int]] = {}

    def __call__(self) -> dict[str, Any]:
        now = self._clock()
        return {"cameras": [self._camera(w, now) for w in self.workers]}

    def _camera(self, w: CameraWorker, now: float) -> CameraLink:
        s, cid = w.stats, w.config.camera_id
        captured, sent = s.captured, s.sent
        t0, captured0, sent0 = self._last.get(cid, (None, captured, sent))
        self._last[cid] = (now, captured, sent)
        dt = now - t0 if t0 is not None else 0.0
        p50 = p95 = None
        try:
            latencies = list(s.latencies_ms)  # appended by the camera's loop meanwhile
        except RuntimeError:  # "deque mutated during iteration": skip the figures this once
            latencies = []
        if latencies:
            p50, p95 = (round(float(v), 3) for v in np.percentile(latencies, [50, 95]))
        return CameraLink(
            camera_id=cid,
            capture_fps=round((captured - captured0) / dt, 2) if dt > 0 else 0.0,
            sent_fps=round((sent - sent0) / dt, 2) if dt > 0 else 0.0,
            captured_total=captured, sent_total=sent, dropped_total=s.dropped,
            rejected_total=s.rejected, failed_total=s.failed,
            upload_latency_p50_ms=p50, upload_latency_p95_ms=p95,
            clock_offset_ms=_round(s.clock_offset_ms), clock_uncertainty_ms=_round(s.clock_uncertainty_ms),
            hub_up=s.hub_up, hub_url=s.hub_url, alive=w.is_alive(), quality=w.quality.target)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def start_heartbeat(config: ClientConfig, workers: Sequence[CameraWorker]) -> HeartbeatThread:
    """Start this client's heartbeat thread (``heartbeat:client:<host>:<cameras>``); ``stop()`` it."""
    source = HeartbeatSource(process_id("client", *(c.camera_id for c in config.cameras)), "client",
                             build=CameraRates(workers), interval_s=config.heartbeat_interval_s)
    thread = HeartbeatThread(HeartbeatSender(source, config.hub_url, config.token, config.fallback_hub_urls),
                             timeout_s=config.upload_timeout_s)
    thread.start()
    return thread
