"""Per-camera counters and the periodic one-line status."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np


@dataclass
class CameraStats:
    """Counters of one camera. Written by its capture thread (``captured``) and its event loop
    (the rest); plain int increments are atomic enough for monitoring under the GIL."""

    captured: int = 0
    sent: int = 0
    dropped: int = 0  # replaced before upload because the hub was slower than the camera
    rejected: int = 0  # refused by the hub (4xx)
    failed: int = 0  # upload attempts that found the hub unavailable
    hub_up: bool | None = None
    hub_url: str | None = None  # the hub the last frame went to
    clock_offset_ms: float | None = None
    clock_uncertainty_ms: float | None = None
    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=300))
    _last: tuple[float, int, int] = field(default_factory=lambda: (time.monotonic(), 0, 0))

    def status_line(self) -> str:
        """``sent 29.9 fps (captured 30.0), drops 0, upload p50 2.1 ms p95 4.0 ms, hub up``.
        Rates are over the interval since the previous call."""
        now = time.monotonic()
        t0, captured0, sent0 = self._last
        self._last = (now, self.captured, self.sent)
        dt = max(now - t0, 1e-9)
        lat = np.percentile(self.latencies_ms, [50, 95]) if self.latencies_ms else None
        lat_text = f"upload p50 {lat[0]:.1f} ms p95 {lat[1]:.1f} ms" if lat is not None else "upload -"
        state = {None: "hub ?", True: "hub up", False: "hub DOWN"}[self.hub_up]
        if self.clock_offset_ms is not None:
            state += f", clock {self.clock_offset_ms:+.1f} ± {self.clock_uncertainty_ms:.1f} ms"
        return (f"sent {(self.sent - sent0) / dt:.1f} fps (captured "
                f"{(self.captured - captured0) / dt:.1f}), drops {self.dropped}, rejected {self.rejected}, "
                f"{lat_text}, {state}")
