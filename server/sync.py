"""Pairing frames across cameras by capture time (nearest neighbour; the full
ApproximateTime synchroniser with clock offsets replaces this in a later step)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .store import Frame


def nearest_set(rings: Mapping[str, Sequence[Frame]]) -> tuple[list[Frame], float] | None:
    """Newest set of one frame per camera whose capture times lie closest together.

    The camera whose newest frame is oldest bounds how recent a complete set can be, so its
    newest frame is the anchor and every other camera contributes its frame nearest in capture
    time to the anchor.

    Args:
        rings: per camera, its recent frames (any order).

    Returns:
        ``(frames in the order of ``rings``, spread_ms)``, or None if any camera has no frame.
    """
    if not rings or any(not ring for ring in rings.values()):
        return None
    newest = {cid: max(ring, key=lambda f: f.capture_time_ns) for cid, ring in rings.items()}
    anchor = min(newest.values(), key=lambda f: f.capture_time_ns)
    t = anchor.capture_time_ns
    chosen = [
        anchor if cid == anchor.camera_id
        else min(ring, key=lambda f: (abs(f.capture_time_ns - t), -f.capture_time_ns))
        for cid, ring in rings.items()
    ]
    times = [f.capture_time_ns for f in chosen]
    return chosen, (max(times) - min(times)) / 1e6
