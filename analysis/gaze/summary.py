"""Gaze over one set (a run of reps), for the set summary the hub keeps.

Times are weighted like the attention window (``attention``): each frame's state holds until the
next frame's capture time, at most ``max_gap_s``, so skipped frames do not bias the shares.

Angles are kept as running count, sum, minimum and maximum, not per frame: a set only closes after
a rep, so a camera watching nobody squat would otherwise grow its summary with every frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from analysis.gaze.attention import DEFAULT_MAX_GAP_S


def _r(x: float | None, nd: int = 1) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


@dataclass(slots=True)
class _Running:
    """Count, sum, minimum and maximum of a series of degrees, in constant memory."""

    n: int = 0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf

    def add(self, x: float) -> None:
        x = float(x)
        self.n += 1
        self.total += x
        self.low = min(self.low, x)
        self.high = max(self.high, x)

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None


class GazeSetSummary:
    """Accumulates one set's gaze frames. Not thread-safe; one per camera."""

    def __init__(self, max_gap_s: float = DEFAULT_MAX_GAP_S) -> None:
        self.max_gap_ns = int(max_gap_s * 1e9)
        self.reset()

    def reset(self) -> None:
        self.frames = 0
        self.face_frames = 0
        self.blinks = 0
        self._timed_ns = self._on_ns = self._face_ns = 0
        self._last: tuple[int, bool, bool] | None = None
        self._yaw = _Running()
        self._pitch = _Running()
        self._head_pitch = _Running()

    def add(self, capture_time_ns: int, *, face_found: bool, on_target: bool, blink: bool,
            direction: tuple[float, float] | None, head_pitch: float | None) -> None:
        """One analysed frame: whether a face was found and on target, a blink ending on it, its gaze
        (yaw, pitch) and head pitch in degrees (None when unknown)."""
        if self._last is not None and capture_time_ns >= self._last[0]:
            t0, was_on, had_face = self._last
            held = min(capture_time_ns - t0, self.max_gap_ns)
            self._timed_ns += held
            self._on_ns += held if was_on else 0
            self._face_ns += held if had_face else 0
        self._last = (capture_time_ns, on_target, face_found)
        self.frames += 1
        self.face_frames += face_found
        self.blinks += blink
        if direction is not None:
            self._yaw.add(direction[0])
            self._pitch.add(direction[1])
        if head_pitch is not None:
            self._head_pitch.add(head_pitch)

    def to_dict(self) -> dict:
        """``{"frames", "face_frames", "seconds", "face_pct", "attention_pct", "blinks", "blinks_per_min",
        "mean_yaw", "mean_pitch", "head_pitch_mean", "head_pitch_min", "head_pitch_max"}``; shares in %,
        angles in degrees, None when there was nothing to measure."""
        secs = self._timed_ns / 1e9
        hp = self._head_pitch
        return {
            "frames": self.frames,
            "face_frames": self.face_frames,
            "seconds": _r(secs, 2),
            "face_pct": _r(100 * self._face_ns / self._timed_ns) if self._timed_ns else None,
            "attention_pct": _r(100 * self._on_ns / self._timed_ns) if self._timed_ns else None,
            "blinks": self.blinks,
            "blinks_per_min": _r(60 * self.blinks / secs) if secs > 0 else None,
            "mean_yaw": _r(self._yaw.mean),
            "mean_pitch": _r(self._pitch.mean),
            "head_pitch_mean": _r(hp.mean),
            "head_pitch_min": _r(hp.low) if hp.n else None,
            "head_pitch_max": _r(hp.high) if hp.n else None,
        }
