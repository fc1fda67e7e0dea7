"""Per-camera calibration of the attention target: the person looks at the screen's centre for a
couple of seconds and the median gaze direction over that time becomes the target.

``Calibrator.start(duration_s)`` arms it; the first frame after that starts the clock (capture time),
and every frame with a readable gaze until ``duration_s`` has passed is collected. It then
    succeeds  with the median yaw and pitch when at least ``MIN_SAMPLES`` directions were read, the
              face was found in at least half the frames, and the directions stayed within
              ``max_spread_deg`` of their median (median absolute angle: the person held still);
    fails     otherwise, with a message saying which.
The median makes a glance away or a blink during the two seconds harmless.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.gaze.attention import angle_between

DEFAULT_DURATION_S = 2.0
MIN_SAMPLES = 5
DEFAULT_MAX_SPREAD_DEG = 7.5
"""Half the default on-target cone: a looser hold would set a target the person never looked at."""


@dataclass(frozen=True)
class CalibrationStatus:
    """state: idle | running | done | failed; progress 0..1; the target (degrees) once done."""

    state: str = "idle"
    progress: float = 0.0
    request_id: str | None = None
    message: str | None = None
    target_yaw: float | None = None
    target_pitch: float | None = None

    def to_dict(self) -> dict:
        return {"state": self.state, "progress": round(self.progress, 3), "request_id": self.request_id,
                "message": self.message}


class Calibrator:
    """Args:
        max_spread_deg: largest median angle of the samples from their median direction.
    Not thread-safe; one per camera.
    """

    def __init__(self, max_spread_deg: float = DEFAULT_MAX_SPREAD_DEG) -> None:
        self.max_spread_deg = max_spread_deg
        self.status = CalibrationStatus()
        self._duration_ns = 0
        self._start_ns: int | None = None
        self._samples: list[tuple[float, float]] = []
        self._frames = 0

    @property
    def running(self) -> bool:
        return self.status.state == "running"

    def start(self, duration_s: float = DEFAULT_DURATION_S, request_id: str | None = None) -> None:
        """Arm a calibration of ``duration_s`` seconds (> 0); a running one is restarted.
        Raises ValueError for a non-positive duration."""
        if duration_s <= 0:
            raise ValueError(f"duration_s must be > 0, got {duration_s}")
        self._duration_ns = int(duration_s * 1e9)
        self._start_ns = None
        self._samples = []
        self._frames = 0
        self.status = CalibrationStatus("running", 0.0, request_id, "look at the centre of the screen")

    def cancel(self) -> None:
        self.status = CalibrationStatus()

    def update(self, capture_time_ns: int, direction: tuple[float, float] | None) -> CalibrationStatus:
        """Feed one frame (its gaze yaw/pitch in degrees, None when unreadable) while running."""
        if not self.running:
            return self.status
        if self._start_ns is None:
            self._start_ns = capture_time_ns
        self._frames += 1
        if direction is not None:
            self._samples.append(direction)
        elapsed = capture_time_ns - self._start_ns
        if elapsed < self._duration_ns:
            self.status = CalibrationStatus("running", elapsed / self._duration_ns, self.status.request_id,
                                            self.status.message)
            return self.status
        self.status = self._finish()
        return self.status

    def _finish(self) -> CalibrationStatus:
        rid = self.status.request_id
        n = len(self._samples)
        if n < MIN_SAMPLES or n < 0.5 * self._frames:
            return CalibrationStatus("failed", 1.0, rid, f"gaze read in {n} of {self._frames} frames; "
                                     "keep the face in view, eyes open")
        yaw, pitch = (float(np.median(a)) for a in zip(*self._samples))
        spread = float(np.median([angle_between(y, p, yaw, pitch) for y, p in self._samples]))
        if spread > self.max_spread_deg:
            return CalibrationStatus("failed", 1.0, rid, f"gaze moved by {spread:.1f} deg (median); "
                                     "hold still on the screen's centre")
        return CalibrationStatus("done", 1.0, rid, f"target set from {n} frames", yaw, pitch)
