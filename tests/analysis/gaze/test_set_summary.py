"""The set's gaze summary: the same figures as over every frame, in memory that does not grow with
the frames (a set closes only after a rep, so a camera watching nobody squat never resets it)."""

from __future__ import annotations

import tracemalloc

import numpy as np

from analysis.gaze.summary import GazeSetSummary

NS = 33_333_333  # 30 fps


def feed(summary: GazeSetSummary, rng: np.random.Generator, frames: int, start: int = 0) -> dict:
    """Add ``frames`` random frames; returns the per-frame angles added (for a reference figure)."""
    added = {"yaw": [], "pitch": [], "head": []}
    for i in range(start, start + frames):
        face = bool(rng.random() < 0.9)
        direction = (float(rng.normal(2, 10)), float(rng.normal(-5, 8))) if face else None
        head = float(rng.normal(-10, 6)) if face else None
        summary.add(i * NS, face_found=face, on_target=face and rng.random() < 0.7, blink=rng.random() < 0.01,
                    direction=direction, head_pitch=head)
        if direction is not None:
            added["yaw"].append(direction[0])
            added["pitch"].append(direction[1])
        if head is not None:
            added["head"].append(head)
    return added


def test_running_figures_equal_the_per_frame_ones():
    summary = GazeSetSummary()
    added = feed(summary, np.random.default_rng(7), 5000)
    out = summary.to_dict()
    assert out["frames"] == 5000 and out["face_frames"] == len(added["head"])
    assert out["mean_yaw"] == round(float(np.mean(added["yaw"])), 1)
    assert out["mean_pitch"] == round(float(np.mean(added["pitch"])), 1)
    assert (out["head_pitch_mean"], out["head_pitch_min"], out["head_pitch_max"]) == tuple(
        round(float(f(added["head"])), 1) for f in (np.mean, np.min, np.max))
    summary.reset()
    empty = summary.to_dict()
    assert empty["frames"] == 0 and empty["mean_yaw"] is None and empty["head_pitch_min"] is None


def test_memory_does_not_grow_with_the_frames():
    summary = GazeSetSummary()
    rng = np.random.default_rng(1)
    feed(summary, rng, 1000)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        feed(summary, rng, 30_000, start=1000)  # ~17 min of a 30 fps camera
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename")
                if s.traceback[0].filename.endswith("summary.py"))
    # Per-frame lists would hold 3 floats per frame: ~2 MB here.
    assert grown < 10_000, grown
