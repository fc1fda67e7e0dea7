"""Recent time-stamped values per key, for the monitor's windowed figures (e.g. latency p95)."""

from __future__ import annotations

import threading
from collections import deque

import numpy as np


class RecentValues:
    """Per key, the values of the last ``window_s`` seconds (at most ``max_per_key`` of them).

    Thread-safe. Times are ns since the epoch, passed by the caller.
    """

    def __init__(self, window_s: float, max_per_key: int = 1024, max_keys: int = 256) -> None:
        if window_s <= 0 or max_per_key < 1 or max_keys < 1:
            raise ValueError("window_s, max_per_key and max_keys must be positive")
        self.window_ns = int(window_s * 1e9)
        self.max_per_key = max_per_key
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._values: dict[str, deque[tuple[int, float]]] = {}

    def add(self, key: str, value: float, now_ns: int) -> None:
        with self._lock:
            values = self._values.get(key)
            if values is None:
                if len(self._values) >= self.max_keys:  # a flood of ids must not grow memory
                    oldest = min(self._values, key=lambda k: self._values[k][-1][0] if self._values[k] else 0)
                    del self._values[oldest]
                values = self._values[key] = deque(maxlen=self.max_per_key)
            values.append((now_ns, value))

    def quantiles(self, q: float, now_ns: int) -> dict[str, float]:
        """Per key with values in the window, their ``q`` quantile (0-1, linear interpolation)."""
        horizon = now_ns - self.window_ns
        out = {}
        with self._lock:
            for key, values in self._values.items():
                while values and values[0][0] < horizon:
                    values.popleft()
                if values:
                    out[key] = [v for _, v in values]
        return {k: float(np.quantile(v, q)) for k, v in out.items()}
