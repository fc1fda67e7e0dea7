"""Per-camera input limits checked before a frame is stored: upload rate and capture time.

- **Rate**: a token bucket per camera (the classic traffic-shaping algorithm, RFC 2697's single rate
  bucket without colours) refilled at ``factor x fps`` tokens/s and holding at most one second of
  them (at least one), so a camera may momentarily catch up but never sustain more than ``factor``
  times its rate.
  ``fps`` is what the camera declares (``X-Camera-Fps`` header, or ``fps`` in a WebSocket frame
  header), else ``default_fps``. A declared rate is used rather than the hub's measured one because
  a flooding camera would raise its own measured rate. Over the limit: 429 ``rate_limited`` with
  ``retry_after_s`` (HTTP also gets ``Retry-After``).
- **Capture time** (hub clock, i.e. after the client's offset correction): more than
  ``max_future_s`` ahead of the hub's clock is 422 ``capture_time_in_future``; older than the ring
  (more than ``ring_seconds`` before the camera's newest frame, same stream) is 409
  ``capture_time_too_old``: such a frame would leave the ring the moment it entered it. A frame
  whose seq restarts the stream (seq <= the last one) starts a new ring and is not compared.

All methods run on the hub's event loop (no lock: nothing awaits between check and store).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from server.errors import ApiError
from server.store import Frame


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float
    fps: float


class UploadLimits:
    """Args:
        rate_factor: allowed uploads per second as a multiple of the camera's fps (0: no limit).
        default_fps: fps of a camera that declares none, frames/s.
        max_future_s: how far ahead of the hub's clock a capture time may be, s.
        ring_seconds: the frame store's ring length, s.
        clock: monotonic seconds (tests pass their own).

    Declared rates are validated by the routes (0.1-240 frames/s); below 0.1 the bucket would ask
    a camera to wait for hours.
    """

    def __init__(self, *, rate_factor: float = 2.0, default_fps: float = 30.0, max_future_s: float = 5.0,
                 ring_seconds: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate_factor = rate_factor
        self.default_fps = default_fps
        self.max_future_ns = int(max_future_s * 1e9)
        self.ring_ns = int(ring_seconds * 1e9)
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, camera_id: str, declared_fps: float | None = None) -> None:
        """Spend one upload of ``camera_id``'s budget. Raises ApiError 429 ``rate_limited``."""
        if self.rate_factor <= 0:
            return
        now = self.clock()
        b = self._buckets.get(camera_id)
        if b is None:
            fps = declared_fps or self.default_fps
            b = self._buckets[camera_id] = _Bucket(tokens=max(1.0, self.rate_factor * fps), updated=now, fps=fps)
        elif declared_fps is not None:
            b.fps = declared_fps  # the camera may change its rate (e.g. a new --fps after a restart)
        rate = self.rate_factor * b.fps
        # Capacity: one second at the limit (at least one upload, for rates below 1/s).
        b.tokens = min(max(1.0, rate), b.tokens + (now - b.updated) * rate)
        b.updated = now
        if b.tokens < 1.0 - 1e-9:  # the tolerance: a camera exactly at the limit, in floating point
            wait = (1.0 - b.tokens) / rate
            raise ApiError(429, "rate_limited",
                           f"camera {camera_id!r} uploads faster than {rate:g} frames/s "
                           f"({self.rate_factor:g} x its {b.fps:g} fps)",
                           # Rounded up: a camera that waits what it is told is never refused again.
                           camera_id=camera_id, limit_fps=rate, retry_after_s=math.ceil(wait * 1000) / 1000)
        b.tokens = max(0.0, b.tokens - 1.0)

    def check_capture_time(self, camera_id: str, seq: int, capture_time_ns: int, now_ns: int,
                           newest: Frame | None) -> None:
        """Raises ApiError 422 ``capture_time_in_future`` or 409 ``capture_time_too_old``."""
        ahead = capture_time_ns - now_ns
        if ahead > self.max_future_ns:
            raise ApiError(422, "capture_time_in_future",
                           f"capture time is {ahead / 1e9:.3f} s ahead of the hub's clock (at most "
                           f"{self.max_future_ns / 1e9:g} s); is the camera's clock offset to the hub applied?",
                           camera_id=camera_id, capture_time_ns=capture_time_ns, hub_time_ns=now_ns)
        if newest is None or seq <= newest.seq:
            return
        behind = newest.capture_time_ns - capture_time_ns
        if behind > self.ring_ns:
            raise ApiError(409, "capture_time_too_old",
                           f"capture time is {behind / 1e9:.3f} s older than the camera's newest frame, "
                           f"beyond the {self.ring_ns / 1e9:g} s ring",
                           camera_id=camera_id, capture_time_ns=capture_time_ns,
                           newest_capture_time_ns=newest.capture_time_ns)

    @classmethod
    def from_settings(cls, settings) -> UploadLimits:
        return cls(rate_factor=settings.upload_rate_factor, default_fps=settings.default_camera_fps,
                   max_future_s=settings.max_future_s, ring_seconds=settings.ring_seconds)

