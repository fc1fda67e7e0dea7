"""Clock offset to the hub by the NTP four-timestamp exchange (RFC 5905, section 8).

For one exchange: ``t0`` client send, ``t1`` hub receive, ``t2`` hub send, ``t3`` client receive,
all in ns; the hub's clock minus ours is ``offset = ((t1 - t0) + (t2 - t3)) / 2`` and the round
trip is ``delay = (t3 - t0) - (t2 - t1)``. Any asymmetry of the path shifts the offset by at
most ``delay / 2``, which is the uncertainty we report. As in NTP's clock filter, samples with the
lowest delay carry the least queuing noise, so of each burst we keep the lowest-delay ones.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TimeSample:
    """One exchange's four timestamps, ns."""

    t0: int
    t1: int
    t2: int
    t3: int

    @property
    def offset_ns(self) -> float:
        return ((self.t1 - self.t0) + (self.t2 - self.t3)) / 2

    @property
    def delay_ns(self) -> int:
        return (self.t3 - self.t0) - (self.t2 - self.t1)


@dataclass(frozen=True, slots=True)
class OffsetEstimate:
    """Hub clock minus local clock.

    ``offset_ns``: the estimate; ``uncertainty_ns``: half the best round trip (a bound on the
    error from path asymmetry); ``at_local_ns``: local time of the estimate; ``drift_ppm``:
    rate of change of the offset (µs per s), 0.0 until two syncs are known.
    """

    offset_ns: float
    uncertainty_ns: float
    at_local_ns: int
    drift_ppm: float = 0.0
    samples: int = 0


def estimate_from_burst(samples: Sequence[TimeSample], keep: int = 3) -> tuple[float, float]:
    """``(offset_ns, uncertainty_ns)`` from a burst: the median offset of the ``keep``
    lowest-delay samples, with the lowest delay / 2 as uncertainty.

    Raises ValueError for an empty burst or one whose delays are all negative (broken clocks).
    """
    valid = [s for s in samples if s.delay_ns >= 0]
    if not valid:
        raise ValueError("no usable time samples (empty burst or negative round trips)")
    best = sorted(valid, key=lambda s: s.delay_ns)[: max(1, keep)]
    return statistics.median(s.offset_ns for s in best), best[0].delay_ns / 2


class ClockSync:
    """Keeps the offset estimate and tracks drift across periodic re-synchronisations.

    Args:
        clock_ns: the local clock (``time.time_ns`` shifted by ``--clock-offset-ms`` in tests).
        history: how many past syncs the drift fit uses.

    Thread-safe: the upload loop writes, the capture thread reads ``to_hub_ns``.
    """

    def __init__(self, clock_ns: Callable[[], int] = time.time_ns, history: int = 10) -> None:
        self.clock_ns = clock_ns
        self._lock = threading.Lock()
        self._history: deque[tuple[int, float]] = deque(maxlen=history)
        self._estimate: OffsetEstimate | None = None

    @property
    def estimate(self) -> OffsetEstimate | None:
        with self._lock:
            return self._estimate

    def update(self, samples: Sequence[TimeSample], keep: int = 3) -> OffsetEstimate:
        """Fold in one burst; returns the new estimate. Raises ValueError like ``estimate_from_burst``."""
        offset, uncertainty = estimate_from_burst(samples, keep)
        at = max(s.t3 for s in samples)
        with self._lock:
            self._history.append((at, offset))
            drift = _slope_ppm(self._history)
            self._estimate = OffsetEstimate(offset, uncertainty, at, drift, len(samples))
            return self._estimate

    def offset_at(self, local_ns: int) -> float | None:
        """Offset (ns) predicted for local time ``local_ns`` (extrapolating the drift); None if unsynced."""
        est = self.estimate
        if est is None:
            return None
        return est.offset_ns + est.drift_ppm * 1e-6 * (local_ns - est.at_local_ns)

    def to_hub_ns(self, local_ns: int) -> int:
        """Convert a local time to hub time; unchanged while no estimate exists yet."""
        offset = self.offset_at(local_ns)
        return local_ns if offset is None else int(round(local_ns + offset))

    def to_local_ns(self, hub_ns: int) -> int:
        """Convert a hub time to local time (inverse of ``to_hub_ns``)."""
        offset = self.offset_at(hub_ns)
        if offset is None:
            return hub_ns
        # The offset is a function of local time: one fixed-point step removes the drift term's error.
        return int(round(hub_ns - self.offset_at(int(hub_ns - offset))))


def _slope_ppm(points: Sequence[tuple[int, float]]) -> float:
    """Least-squares slope of offset over local time, in ppm; 0.0 with fewer than 2 points or
    under 1 s of span (too short to tell drift from noise)."""
    if len(points) < 2 or points[-1][0] - points[0][0] < 1e9:
        return 0.0
    xs = [(p[0] - points[0][0]) / 1e9 for p in points]
    ys = [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return 0.0
    slope_ns_per_s = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var
    return slope_ns_per_s / 1e3  # ns/s -> ppm (1 ppm = 1000 ns per s)
