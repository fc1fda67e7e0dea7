"""On-target test and the sliding attention score.

On target: the angle between the gaze direction and the target direction (both yaw/pitch in
degrees, ``head_pose.direction_vector``) is at most ``cone_deg``. The default cone, 15 degrees,
is about the half-width a laptop screen subtends at a working distance (a 15-inch screen, 33 cm
wide, at 55-60 cm: atan(16.5 / 57) = 16 degrees); the target itself is straight into the camera
until a calibration sets it (``calibration``).

Attention: the share of time on target over the last ``window_s`` seconds of capture time
(default 10 s). Each frame's state holds from its capture time until the next frame's (sample and
hold), so a skipped frame costs nothing and the score does not depend on the frame rate. A gap
longer than ``max_gap_s`` (a stalled camera) is not counted at all. Frames without a face count as
off target: a person who turned away, or left, is not looking at the screen. The on-target test has
a small hysteresis (``DEFAULT_HYSTERESIS_DEG``).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from analysis.gaze.head_pose import direction_vector

DEFAULT_CONE_DEG = 15.0
DEFAULT_WINDOW_S = 10.0
DEFAULT_MAX_GAP_S = 1.0
DEFAULT_HYSTERESIS_DEG = 2.0
"""Once on target, the gaze must leave the cone by this much more to count as off: iris landmarks
jitter by a degree or two frame to frame, which would otherwise flicker the state at the cone's edge."""


def angle_between(yaw_a: float, pitch_a: float, yaw_b: float, pitch_b: float) -> float:
    """Angle in degrees (0..180) between two directions given as yaw/pitch in degrees."""
    c = float(np.dot(direction_vector(yaw_a, pitch_a), direction_vector(yaw_b, pitch_b)))
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def on_target(yaw: float, pitch: float, target_yaw: float, target_pitch: float, cone_deg: float,
              was_on: bool = False, hysteresis_deg: float = 0.0) -> bool:
    """True when the direction lies within ``cone_deg`` degrees of the target direction; when it
    ``was_on`` target on the previous frame, within ``cone_deg + hysteresis_deg``."""
    limit = cone_deg + (hysteresis_deg if was_on else 0.0)
    return angle_between(yaw, pitch, target_yaw, target_pitch) <= limit


class AttentionWindow:
    """Time-weighted share of on-target time over a sliding window (module doc).

    Args:
        window_s: window length, seconds of capture time (> 0).
        max_gap_s: longest hold of one sample, seconds; longer gaps are left out of the window.
    Raises ValueError for a non-positive window or gap. Not thread-safe; one per camera.
    """

    def __init__(self, window_s: float = DEFAULT_WINDOW_S, max_gap_s: float = DEFAULT_MAX_GAP_S) -> None:
        if window_s <= 0 or max_gap_s <= 0:
            raise ValueError(f"window_s and max_gap_s must be > 0, got {window_s}, {max_gap_s}")
        self.window_ns = int(window_s * 1e9)
        self.max_gap_ns = int(max_gap_s * 1e9)
        # Closed intervals (start_ns, end_ns, on_target), oldest first, with running totals.
        self._spans: deque[tuple[int, int, bool]] = deque()
        self._total_ns = 0
        self._on_ns = 0
        self._last: tuple[int, bool] | None = None

    def add(self, capture_time_ns: int, is_on_target: bool) -> None:
        """Record the state seen at ``capture_time_ns``; times must not go backwards (an older
        sample is ignored)."""
        if self._last is not None:
            t0, state = self._last
            if capture_time_ns < t0:
                return
            end = min(capture_time_ns, t0 + self.max_gap_ns)
            if end > t0:
                self._spans.append((t0, end, state))
                self._total_ns += end - t0
                self._on_ns += (end - t0) if state else 0
        self._last = (capture_time_ns, bool(is_on_target))
        self._evict(capture_time_ns - self.window_ns)

    def _evict(self, start_ns: int) -> None:
        while self._spans and self._spans[0][1] <= start_ns:
            t0, t1, state = self._spans.popleft()
            self._total_ns -= t1 - t0
            self._on_ns -= (t1 - t0) if state else 0

    def share(self) -> float | None:
        """On-target share (0..1) of the window ending at the newest sample; None before two samples."""
        if self._last is None:
            return None
        start = self._last[0] - self.window_ns
        total, on = self._total_ns, self._on_ns
        if self._spans and self._spans[0][0] < start:  # the oldest span sticks out of the window
            t0, _, state = self._spans[0]
            total -= start - t0
            on -= (start - t0) if state else 0
        return on / total if total > 0 else None

    def reset(self) -> None:
        self._spans.clear()
        self._total_ns = self._on_ns = 0
        self._last = None
