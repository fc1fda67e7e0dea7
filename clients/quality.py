"""The hub's quality target, obeyed by a camera's capture thread (the policy: ``server/quality``).

Every upload answer carries the camera's target (``QualityTarget``: fps, width, JPEG quality); the
camera's event loop hands it to ``QualityGate.update`` and the capture thread applies it from the
next grabbed frame: frames beyond the target rate are neither decoded nor encoded, the others are
encoded at the target's width and quality. A target only ever lowers what the camera is configured
for. The target is an immutable object swapped by reference, so the two threads need no lock.

Thinning keeps synchronised cameras synchronised: time on the hub's clock is cut into slots of
``1 / fps`` and a camera sends the first frame it captures in each slot. Cameras at the same target
whose captures are matched (``--start-at``) therefore send frames of the same moments, and the hub
still finds sets within its spread; a rate limiter of its own per camera would pick frames up to a
period apart.
"""

from __future__ import annotations

from collections.abc import Callable

from formsync.wire.frames import QualityTarget


class QualityGate:
    """Args:
        jpeg_quality: the camera's configured JPEG quality, 1-100 (the ceiling).
        max_width: its configured widest frame, px, or None for no limit (the ceiling).
        to_hub_ns: local time (ns) to the hub's clock (the camera's ``ClockSync.to_hub_ns``).
    """

    def __init__(self, jpeg_quality: int, max_width: int | None,
                 to_hub_ns: Callable[[int], int] = lambda ns: ns) -> None:
        self.jpeg_quality = jpeg_quality
        self.max_width = max_width
        self.to_hub_ns = to_hub_ns
        self.target: QualityTarget | None = None
        self._last_slot: int | None = None
        self._slot_fps: float | None = None

    def update(self, target: QualityTarget | None) -> None:
        """The hub's latest answer (any thread). None (adaptive quality off) keeps the last target:
        a hub without the feature never sends one, and one that had it keeps answering with it."""
        if target is not None:
            self.target = target

    def admit(self, capture_time_ns: int) -> bool:
        """Whether the frame captured at ``capture_time_ns`` (this machine's clock) is sent: the
        first one of its slot on the hub's clock (capture thread only)."""
        target = self.target
        if target is None:
            return True
        if target.fps != self._slot_fps:  # slots of another length: numbered afresh
            self._last_slot, self._slot_fps = None, target.fps
        slot = int(self.to_hub_ns(capture_time_ns) * target.fps // 1_000_000_000)
        if self._last_slot is not None and slot <= self._last_slot and self._last_slot - slot < 10 * target.fps:
            return False
        # A slot far behind the last one is a clock stepped back (a new offset): start afresh.
        self._last_slot = slot
        return True

    def encoding(self) -> tuple[int, int | None]:
        """``(jpeg quality, max width or None)`` to encode the next frame with."""
        target = self.target
        if target is None:
            return self.jpeg_quality, self.max_width
        width = target.width if self.max_width is None else min(self.max_width, target.width)
        return min(self.jpeg_quality, target.jpeg_quality), width
