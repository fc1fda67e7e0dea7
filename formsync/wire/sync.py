"""Synchronised sets: one frame per camera, matched by capture time (``GET /api/v1/frames/sync``;
the matching policy: ``formsync/synchronizer.py``)."""

from __future__ import annotations

from pydantic import Field

from formsync.wire.base import Ms, Wire
from formsync.wire.frames import FrameMeta


class SyncSetOut(Wire):
    spread_ms: Ms = Field(description="Newest minus oldest capture time in the set, ms.")
    max_spread_ms: float = Field(gt=0, le=60_000, description="Largest spread the synchroniser accepts, ms.")
    frames: list[FrameMeta] = Field(min_length=2, max_length=10_000, description="One frame per camera.")

    @property
    def key(self) -> tuple[tuple[str, int, int], ...]:
        """Identifies the set: ``(camera_id, seq, capture_time_ns)`` per frame (the capture time
        tells a restarted camera's seq 0 from the previous stream's)."""
        return tuple((f.camera_id, f.seq, f.capture_time_ns) for f in self.frames)

    @property
    def max_uncertainty_ms(self) -> float | None:
        """The largest clock uncertainty among the frames, ms; None when a frame's camera did not
        report its clock offset (its capture time is then on its own, unsynchronised clock)."""
        if any(f.clock_offset_ns is None or f.clock_uncertainty_ns is None for f in self.frames):
            return None
        return max((f.clock_uncertainty_ns for f in self.frames), default=0) / 1e6
