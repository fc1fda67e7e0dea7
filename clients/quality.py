"""The hub's quality target, obeyed by a camera's capture thread (the policy: ``server/quality``).

Every upload answer carries the camera's target (``QualityTarget``: fps, width, JPEG quality); the
camera's event loop hands it to ``QualityGate.update`` and the capture thread applies it from the
next grabbed frame: frames beyond the target rate are neither decoded nor encoded, the others are
encoded at the target's width and quality. A target only ever lowers what the camera is configured
for. The target is an immutable object swapped by reference, so the two threads need no lock.
"""

from __future__ import annotations

from clients.pacing import RateLimiter
from formsync.wire.frames import QualityTarget


class QualityGate:
    """Args:
        jpeg_quality: the camera's configured JPEG quality, 1-100 (the ceiling).
        max_width: its configured widest frame, px, or None for no limit (the ceiling).
    """

    def __init__(self, jpeg_quality: int, max_width: int | None) -> None:
        self.jpeg_quality = jpeg_quality
        self.max_width = max_width
        self.target: QualityTarget | None = None
        self._limiter: RateLimiter | None = None
        self._limiter_fps: float | None = None

    def update(self, target: QualityTarget | None) -> None:
        """The hub's latest answer (any thread). None (adaptive quality off) keeps the last target:
        a hub without the feature never sends one, and one that had it keeps answering with it."""
        if target is not None:
            self.target = target

    def admit(self, now_s: float) -> bool:
        """Whether the frame grabbed at ``now_s`` (monotonic s) is sent (capture thread only)."""
        target = self.target
        if target is None:
            return True
        if self._limiter_fps != target.fps:
            self._limiter, self._limiter_fps = RateLimiter(target.fps), target.fps
        return self._limiter.should_emit(now_s)

    def encoding(self) -> tuple[int, int | None]:
        """``(jpeg quality, max width or None)`` to encode the next frame with."""
        target = self.target
        if target is None:
            return self.jpeg_quality, self.max_width
        width = target.width if self.max_width is None else min(self.max_width, target.width)
        return min(self.jpeg_quality, target.jpeg_quality), width
