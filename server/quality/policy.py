"""The adaptive-quality controller: one per camera, additive increase, multiplicative decrease.

Each tick (``QualityPolicy.interval_s``) a camera's controller reads three signals:

- the share of its frames the analysis worker skipped over the last ``window_s`` (it analyses the
  newest frame and skips those that arrived meanwhile, ``analysis/worker.py``);
- the p95 of capture-to-hub latency of its frames over the same window;
- the hub machine's CPU busy share (the figure the ``cpu_high`` alert watches).

Any signal above its ``*_high`` bound is pressure: the target fps is multiplied by
``decrease_factor`` (at most once per ``settle_s``, so the previous cut shows in the signals before
the next; at once after an increase). When every known signal is below its ``*_low`` bound for
``settle_s`` the target grows by ``increase_fps`` per ``settle_s``, up to the camera's own rate.
Between the bounds the target holds (hysteresis: no flapping at a bound). This is the AIMD rule of
TCP congestion control (Chiu & Jain 1989); the default factor 0.7 is CUBIC's (RFC 8312 §4.5).

The fps picks the tier, and the tier the width and JPEG quality (``Tier``): a machine short of CPU
or a link short of bandwidth gets smaller frames as well as fewer.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Tier:
    """One row of the tier table: applies while the target fps is at least ``min_fps``.

    ``width`` (px) and ``jpeg_quality`` (1-100) are ceilings the camera encodes at; a camera
    configured lower keeps its own."""

    min_fps: float
    width: int
    jpeg_quality: int


# Widths: MediaPipe pose runs on a 256x256 crop of the frame (BlazePose, Bazarevsky et al. 2020), so
# 480 px still feeds it every pixel it uses; 640 px is VGA, the demo clips' size. Rates: >= 24 fps
# is full motion (film rate); 15 fps samples a 2 s squat rep 30 times, enough for the rep counter
# and fault checks (the labelled set's 12 fps clips are counted by the same code).
DEFAULT_TIERS: tuple[Tier, ...] = (Tier(24.0, 1920, 80), Tier(15.0, 640, 75), Tier(0.0, 480, 65))


@dataclass(frozen=True, slots=True)
class QualityPolicy:
    """The controller's limits (hub settings ``FORMSYNC_HUB_QUALITY_*``, ``server/quality/settings.py``).

    Args:
        tiers: best first, ``min_fps`` decreasing, the last one's 0.
        min_fps: the target never goes below this, frames/s (10: a 2 s rep still sampled 20 times).
        max_fps: the target never goes above this (nor above the camera's own declared rate).
        decrease_factor: multiplicative decrease, 0-1.
        increase_fps: additive increase per ``settle_s``, frames/s.
        settle_s: time for a change to show in the signals before the next decision, s.
        window_s: how much history the skip share and latency p95 cover, s.
        skipped_high / skipped_low: share of frames skipped by analysis, 0-1 (high 0.10: at least
            90 % of the frames sent are analysed).
        ingest_latency_high_ms / _low_ms: capture-to-hub p95, ms (100 ms: 3 frame periods at 30 fps).
        cpu_high_percent / _low_percent: host CPU, % (high 75: below the ``cpu_high`` alert's 80,
            so the policy acts before the alert fires; low 60: below its 70 clear threshold).
    """

    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    min_fps: float = 10.0
    max_fps: float = 60.0
    decrease_factor: float = 0.7
    increase_fps: float = 2.0
    settle_s: float = 2.0
    window_s: float = 3.0
    skipped_high: float = 0.10
    skipped_low: float = 0.05
    ingest_latency_high_ms: float = 100.0
    ingest_latency_low_ms: float = 50.0
    cpu_high_percent: float = 75.0
    cpu_low_percent: float = 60.0

    def __post_init__(self) -> None:
        if not self.tiers or self.tiers[-1].min_fps != 0 or any(
                a.min_fps <= b.min_fps for a, b in zip(self.tiers, self.tiers[1:])):
            raise ValueError("tiers must be best first with decreasing min_fps, the last one's 0")
        if not 0 < self.min_fps <= self.max_fps:
            raise ValueError("need 0 < min_fps <= max_fps")
        if not 0 < self.decrease_factor < 1:
            raise ValueError("decrease_factor must be within (0, 1)")
        for low, high in ((self.skipped_low, self.skipped_high),
                          (self.ingest_latency_low_ms, self.ingest_latency_high_ms),
                          (self.cpu_low_percent, self.cpu_high_percent)):
            if not low < high:
                raise ValueError("each *_low bound must be below its *_high bound")

    def tier_of(self, fps: float) -> int:
        return next(i for i, t in enumerate(self.tiers) if fps >= t.min_fps)


@dataclass(frozen=True, slots=True)
class Signals:
    """One tick's view of a camera; None where a signal is unknown (no worker analyses the camera,
    no frame in the window, no CPU sample yet): an unknown signal is neither pressure nor a reason
    to hold back."""

    skipped_share: float | None = None
    ingest_p95_ms: float | None = None
    cpu_percent: float | None = None

    def pressure(self, p: QualityPolicy) -> str | None:
        """Why this tick calls for less, or None."""
        if self.skipped_share is not None and self.skipped_share > p.skipped_high:
            return f"analysis behind: {self.skipped_share * 100:.0f} % of frames skipped"
        if self.cpu_percent is not None and self.cpu_percent > p.cpu_high_percent:
            return f"hub CPU {self.cpu_percent:.0f} %"
        if self.ingest_p95_ms is not None and self.ingest_p95_ms > p.ingest_latency_high_ms:
            return f"ingest latency p95 {self.ingest_p95_ms:.0f} ms"
        return None

    def headroom(self, p: QualityPolicy) -> bool:
        return ((self.skipped_share is None or self.skipped_share < p.skipped_low)
                and (self.cpu_percent is None or self.cpu_percent < p.cpu_low_percent)
                and (self.ingest_p95_ms is None or self.ingest_p95_ms < p.ingest_latency_low_ms))


@dataclass
class CameraController:
    """AIMD state of one camera. ``step`` is pure bookkeeping: the caller supplies the time (s,
    monotonic) and the signals, and reads ``fps``, ``tier`` and ``reason`` after it."""

    policy: QualityPolicy
    fps: float
    changed_at_s: float
    reason: str = "camera rate"
    _decreased_last: bool = False
    _headroom_since_s: float | None = field(default=None, repr=False)

    @classmethod
    def start(cls, policy: QualityPolicy, camera_fps: float | None, now_s: float) -> CameraController:
        """A camera's controller at its own rate (``camera_fps``, frames/s; the policy's max when unknown)."""
        return cls(policy, _ceiling(policy, camera_fps), now_s)

    @property
    def tier(self) -> int:
        return self.policy.tier_of(self.fps)

    def step(self, signals: Signals, now_s: float, camera_fps: float | None = None) -> bool:
        """Apply one tick; True when the target changed. ``camera_fps``: the rate the camera
        declares now (the target never exceeds it)."""
        p = self.policy
        ceiling = _ceiling(p, camera_fps)
        if self.fps > ceiling:  # the camera itself slowed down (or a file plays at a lower rate)
            self._set(ceiling, "camera rate", now_s, decreased=False)
            return True
        why = signals.pressure(p)
        if why is not None:
            self._headroom_since_s = None
            may_cut = not self._decreased_last or now_s - self.changed_at_s >= p.settle_s
            if may_cut and self.fps > p.min_fps:
                self._set(max(p.min_fps, self.fps * p.decrease_factor), why, now_s, decreased=True)
                return True
            if self.fps <= p.min_fps:
                self.reason = f"{why} (at the {p.min_fps:g} fps floor)"
            return False
        if not signals.headroom(p):
            self._headroom_since_s = None
            return False
        if self._headroom_since_s is None:
            self._headroom_since_s = now_s
        if self.fps >= ceiling:
            return False
        if now_s - self._headroom_since_s >= p.settle_s and now_s - self.changed_at_s >= p.settle_s:
            self._set(min(ceiling, self.fps + p.increase_fps), "headroom" if self.fps + p.increase_fps < ceiling
                      else "camera rate", now_s, decreased=False)
            return True
        return False

    def _set(self, fps: float, reason: str, now_s: float, *, decreased: bool) -> None:
        self.fps = round(fps, 2)
        self.reason = reason
        self.changed_at_s = now_s
        self._decreased_last = decreased


def _ceiling(policy: QualityPolicy, camera_fps: float | None) -> float:
    return min(policy.max_fps, camera_fps) if camera_fps else policy.max_fps
