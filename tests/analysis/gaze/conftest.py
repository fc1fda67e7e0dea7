"""Fixtures for the gaze tests: the real gaze clip from the shared footage."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.paths import data_dir


def gaze_clip() -> Path:
    return data_dir() / "gaze" / "laptop_gaze_1.mp4"


@pytest.fixture(scope="session")
def gaze_frames():
    """The first 90 frames (3 s at 30 fps) of the gaze clip as (BGR frame, capture_time_ns, seq)."""
    path = gaze_clip()
    if not path.exists():
        pytest.skip(f"shared footage not found at {path} (set FORMSYNC_DATA_DIR)")
    from analysis.video import frames

    out = []
    for item in frames(path):
        out.append(item)
        if len(out) == 90:
            break
    return out
