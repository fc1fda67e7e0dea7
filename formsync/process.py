"""One process's CPU and memory from psutil.

| field | unit | description |
|---|---|---|
| ``pid`` | | process id |
| ``name`` | | process name (``psutil.Process.name()``) |
| ``cpu_percent`` | % 0-100 | share of the whole machine since the previous sample (see below) |
| ``rss_bytes`` | bytes | resident set size |
| ``threads`` | | threads in the process |
| ``unavailable`` | | fields whose collector failed |

``cpu_percent`` is psutil's per-core figure (up to 100 x cores) divided by the logical CPU count,
so it compares with the host's ``cpu_percent``. Non-blocking (``cpu_percent(interval=None)``) and
cached for ``max_age_s``; a failing read is logged once and disabled, never raised.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil

log = logging.getLogger("formsync.monitoring.process")


class ProcessCollector:
    """Samples one process (default: this one). Thread-safe.

    Args:
        pid: the process to watch (default ``os.getpid()``).
        max_age_s: how long a sample is reused, seconds (> 0).
        clock: monotonic clock in seconds.
    Raises:
        psutil.NoSuchProcess: no process with that pid.
    """

    def __init__(self, pid: int | None = None, max_age_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_age_s <= 0:
            raise ValueError("max_age_s must be > 0")
        self._proc = psutil.Process(pid or os.getpid())
        self.pid = self._proc.pid
        self.max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: dict[str, Any] | None = None
        self._cached_at = 0.0
        self._cpus = psutil.cpu_count() or 1
        self.disabled: dict[str, str] = {}
        try:
            self.name = self._proc.name()
        except psutil.Error:
            self.name = f"pid {self.pid}"
        # Baseline for the first non-blocking cpu_percent (psutil returns a meaningless 0.0 first).
        self._proc.cpu_percent(interval=None)

    def sample(self) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            if self._cached is None or now - self._cached_at >= self.max_age_s:
                self._cached = self._collect()
                self._cached_at = now
            return {**self._cached, "unavailable": list(self._cached["unavailable"])}

    def _collect(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pid": self.pid, "name": self.name, "cpu_percent": None, "rss_bytes": None,
                               "threads": None}
        reads = {
            "cpu_percent": lambda: round(
                min(100.0, max(0.0, self._proc.cpu_percent(interval=None) / self._cpus)), 2),
            "rss_bytes": lambda: int(self._proc.memory_info().rss),
            "threads": self._proc.num_threads,
        }
        # oneshot: psutil reads /proc/<pid>/stat once for all three.
        with self._proc.oneshot():
            for name, read in reads.items():
                if name in self.disabled:
                    continue
                try:
                    out[name] = read()
                except Exception as exc:
                    self.disabled[name] = f"{type(exc).__name__}: {exc}"
                    log.warning("process %d %s collector failed, disabled: %s", self.pid, name, exc)
        out["unavailable"] = sorted(self.disabled)
        return out
