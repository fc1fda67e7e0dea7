"""Bounded ring buffers of recent figures for the Monitor page's charts (the last 10 minutes)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping

import pandas as pd


class History:
    """Per chart (``group``), rows of ``{series: value}`` at sample times, in a ring buffer.

    Each group keeps at most ``window_s / period_s + 1`` rows (``deque(maxlen)``), so memory is
    bounded however long the dashboard runs; rows older than ``window_s`` are also left out of
    ``frame()`` (a pause in sampling never shows stale minutes). A row keeps at most
    ``max_series`` series (the first ones by name), so a flood of camera ids cannot grow it.

    Thread-safe: the poller adds, page threads read.
    """

    def __init__(self, window_s: float = 600.0, period_s: float = 1.0, max_series: int = 32) -> None:
        if window_s <= 0 or period_s <= 0 or max_series < 1:
            raise ValueError("window_s, period_s and max_series must be positive")
        self.window_ns = int(window_s * 1e9)
        self.maxlen = int(window_s / period_s) + 1
        self.max_series = max_series
        self._lock = threading.Lock()
        self._groups: dict[str, deque[tuple[int, dict[str, float]]]] = {}

    def add(self, group: str, time_ns: int, values: Mapping[str, float | None]) -> None:
        """Append one row; None values are left out (a gap in that line)."""
        row = {k: float(v) for k, v in sorted(values.items()) if v is not None}
        row = dict(list(row.items())[:self.max_series])
        with self._lock:
            rows = self._groups.get(group)
            if rows is None:
                rows = self._groups[group] = deque(maxlen=self.maxlen)
            rows.append((time_ns, row))

    def __len__(self) -> int:
        with self._lock:
            return sum(len(rows) for rows in self._groups.values())

    def rows(self, group: str) -> int:
        with self._lock:
            return len(self._groups.get(group, ()))

    def frame(self, group: str, now_ns: int) -> pd.DataFrame:
        """The group's rows of the last ``window_s`` before ``now_ns``: a DataFrame indexed by UTC
        time, one column per series (NaN where a row lacks it); empty when there is none."""
        horizon = now_ns - self.window_ns
        with self._lock:
            rows = [(t, r) for t, r in self._groups.get(group, ()) if t >= horizon]
        if not rows:
            return pd.DataFrame()
        index = pd.to_datetime([t for t, _ in rows], unit="ns", utc=True)
        return pd.DataFrame([r for _, r in rows], index=index).sort_index(axis=1)
