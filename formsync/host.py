"""The machine's health from psutil, one collector per metric family (after glances' plugins).

| field | unit | family | description |
|---|---|---|---|
| ``hostname`` | | | ``socket.gethostname()`` |
| ``cpu_percent`` | % 0-100 | cpu | all cores' busy share since the previous sample in this process |
| ``cpu_count`` | | cpu | logical CPUs |
| ``memory_percent`` | % 0-100 | memory | ``(total - available) / total`` (``virtual_memory().percent``) |
| ``memory_used_bytes`` | bytes | memory | ``total - available`` |
| ``memory_total_bytes`` | bytes | memory | physical memory |
| ``disk_path`` | | disk | a path on the filesystem measured |
| ``disk_free_percent`` | % 0-100 | disk | ``100 - disk_usage().percent``: free share for non-root users |
| ``disk_free_bytes`` | bytes | disk | free to a non-root user |
| ``net_sent_bytes_per_s`` | bytes/s | network | sent on every NIC but loopback, since the previous sample |
| ``net_recv_bytes_per_s`` | bytes/s | network | received likewise |
| ``load_1m`` | runnable tasks | load | 1-minute load average (``psutil.getloadavg``) |
| ``temperature_c`` | °C | temperature | hottest sensor psutil reports (Linux/FreeBSD only) |
| ``unavailable`` | | | families this machine does not offer, or whose collector failed |

Every psutil call is non-blocking (``cpu_percent(interval=None)``, counters compared with the
previous sample) and the whole sample is cached for ``max_age_s``. A family that raises is logged
once and disabled: its fields stay None and it is listed in ``unavailable``; it never breaks the
sample.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil

log = logging.getLogger("formsync.monitoring.host")

# psutil names of loopback interfaces (Linux, BSD/macOS, Windows): local traffic between the hub,
# clients and dashboard on one machine is not network load.
_LOOPBACK = ("lo", "lo0", "Loopback Pseudo-Interface 1")

_MIN_C, _MAX_C = -40.0, 150.0  # plausible sensor range, °C (industrial parts are rated -40 to 125)

FIELDS = (
    "cpu_percent", "cpu_count", "memory_percent", "memory_used_bytes", "memory_total_bytes", "disk_path",
    "disk_free_percent", "disk_free_bytes", "net_sent_bytes_per_s", "net_recv_bytes_per_s", "load_1m",
    "temperature_c",
)


def _clamp_percent(value: float) -> float:
    # psutil can report a hair above 100 (counter rounding); a percentage never exceeds its range.
    return round(min(100.0, max(0.0, float(value))), 2)


class HostCollector:
    """Samples this machine. Thread-safe; ``sample()`` costs a few /proc reads at most once per
    ``max_age_s`` and returns the cached dict otherwise.

    Args:
        disk_path: a path on the filesystem whose free space matters (default: the working
            directory, where the hub keeps ``var/``).
        max_age_s: how long a sample is reused, seconds (> 0).
        clock: monotonic clock in seconds (tests may pass their own).
    """

    def __init__(self, disk_path: str | None = None, max_age_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_age_s <= 0:
            raise ValueError("max_age_s must be > 0")
        self.disk_path = os.path.abspath(disk_path or os.getcwd())
        self.max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: dict[str, Any] | None = None
        self._cached_at = 0.0
        self._net_last: tuple[float, int, int] | None = None
        self.disabled: dict[str, str] = {}
        """Family -> why it is off (unsupported here, or the error that disabled it)."""
        self._families: dict[str, Callable[[float], dict[str, Any]]] = {
            "cpu": self._cpu, "memory": self._memory, "disk": self._disk, "network": self._network,
            "load": self._load, "temperature": self._temperature,
        }
        self.hostname = socket.gethostname()
        # The first cpu_percent(None) call only sets the baseline (psutil docs): make it here so
        # the first sample already measures something.
        psutil.cpu_percent(interval=None)

    def sample(self) -> dict[str, Any]:
        """The host fields above (a fresh dict; None where unavailable)."""
        with self._lock:
            now = self._clock()
            if self._cached is None or now - self._cached_at >= self.max_age_s:
                self._cached = self._collect(now)
                self._cached_at = now
            return {**self._cached, "unavailable": list(self._cached["unavailable"])}

    def _collect(self, now: float) -> dict[str, Any]:
        out: dict[str, Any] = dict.fromkeys(FIELDS)
        out["hostname"] = self.hostname
        for name, read in self._families.items():
            if name in self.disabled:
                continue
            try:
                out.update(read(now))
            except _Unsupported as exc:
                self.disabled[name] = str(exc)
                log.info("host %s: not available here (%s)", name, exc)
            except Exception as exc:  # a collector bug or OS refusal must not break the sample
                self.disabled[name] = f"{type(exc).__name__}: {exc}"
                log.warning("host %s collector failed, disabled: %s", name, exc, exc_info=True)
        out["unavailable"] = sorted(self.disabled)
        return out

    @staticmethod
    def _cpu(_now: float) -> dict[str, Any]:
        return {"cpu_percent": _clamp_percent(psutil.cpu_percent(interval=None)),
                "cpu_count": psutil.cpu_count()}

    @staticmethod
    def _memory(_now: float) -> dict[str, Any]:
        vm = psutil.virtual_memory()
        return {"memory_percent": _clamp_percent(vm.percent),
                "memory_used_bytes": int(vm.total - vm.available), "memory_total_bytes": int(vm.total)}

    def _disk(self, _now: float) -> dict[str, Any]:
        du = psutil.disk_usage(self.disk_path)
        return {"disk_path": self.disk_path, "disk_free_percent": _clamp_percent(100.0 - du.percent),
                "disk_free_bytes": int(du.free)}

    def _network(self, now: float) -> dict[str, Any]:
        nics = psutil.net_io_counters(pernic=True)
        sent = sum(c.bytes_sent for name, c in nics.items() if name not in _LOOPBACK)
        recv = sum(c.bytes_recv for name, c in nics.items() if name not in _LOOPBACK)
        last, self._net_last = self._net_last, (now, sent, recv)
        if last is None or now <= last[0]:
            return {}
        dt = now - last[0]
        # A counter that went backwards (NIC reset, wrap) gives no rate rather than a negative one.
        if sent < last[1] or recv < last[2]:
            return {}
        return {"net_sent_bytes_per_s": round((sent - last[1]) / dt, 1),
                "net_recv_bytes_per_s": round((recv - last[2]) / dt, 1)}

    @staticmethod
    def _load(_now: float) -> dict[str, Any]:
        return {"load_1m": round(psutil.getloadavg()[0], 3)}

    @staticmethod
    def _temperature(_now: float) -> dict[str, Any]:
        read = getattr(psutil, "sensors_temperatures", None)
        if read is None:
            raise _Unsupported("psutil offers no temperatures on this OS")
        # Some drivers report placeholders (-273, 0xFFFF...): keep readings a working machine can have.
        temps = [t.current for sensors in read().values() for t in sensors
                 if t.current is not None and _MIN_C <= t.current <= _MAX_C]
        if not temps:
            raise _Unsupported("no temperature sensor found")
        return {"temperature_c": round(max(temps), 1)}


class _Unsupported(Exception):
    """This machine does not offer the family: disabled quietly, not a failure."""
