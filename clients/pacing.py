"""Real-time playback schedule for video files: which source frame is shown when.

A file plays like a live camera: frame ``i`` of a clip at ``src_fps`` is "captured"
``i / src_fps`` seconds after playback starts. Emitting at ``target_fps <= src_fps`` picks, for
the k-th emission at ``k / target_fps`` s, the source frame shown at that instant.
"""

from __future__ import annotations

import math

# Guards against 0.9999999 -> 0 when k/target*src lands exactly on an integer.
_EPS = 1e-6


class FileSchedule:
    """Emission times and source frame indices for real-time playback.

    Args:
        src_fps: the file's frame rate (frames/s, > 0).
        target_fps: wanted output rate; capped at ``src_fps``.

    Raises:
        ValueError: a rate that is not > 0.
    """

    def __init__(self, src_fps: float, target_fps: float | None = None) -> None:
        if src_fps <= 0 or (target_fps is not None and target_fps <= 0):
            raise ValueError(f"fps must be > 0 (src {src_fps}, target {target_fps})")
        self.src_fps = src_fps
        self.fps = min(target_fps or src_fps, src_fps)
        self.period_s = 1.0 / self.fps

    def emit_time(self, k: int) -> float:
        """Seconds after playback start at which emission ``k`` is due."""
        return k * self.period_s

    def source_index(self, k: int) -> int:
        """Index of the source frame shown at emission ``k``'s due time."""
        return math.floor(self.emit_time(k) * self.src_fps + _EPS)

    def catch_up(self, k: int, elapsed_s: float) -> int:
        """The emission to make now: ``k``, or a later one when we fell a full period behind
        (skip frames, never slow the clock down, as a live camera would)."""
        if elapsed_s >= self.emit_time(k) + self.period_s:
            return math.floor(elapsed_s / self.period_s + _EPS)
        return k


class RateLimiter:
    """Keeps a live source at ``fps`` or below by telling which grabbed frames to emit.

    Drift-free: due times advance by whole periods; after a stall it resynchronises to now
    rather than bursting to make up the missed frames.
    """

    def __init__(self, fps: float) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self.period_s = 1.0 / fps
        self._due: float | None = None

    def should_emit(self, now_s: float) -> bool:
        # A frame arriving up to a quarter period early still counts: devices jitter.
        if self._due is not None and now_s < self._due - self.period_s / 4:
            return False
        self._due = now_s + self.period_s if self._due is None or now_s - self._due > self.period_s \
            else self._due + self.period_s
        return True
