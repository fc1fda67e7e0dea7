"""What the dashboard reads of the hub's cameras and synchronised sets (``formsync.wire``)."""

from __future__ import annotations

import pytest

from formsync.wire.frames import CameraOut, FrameMeta
from formsync.wire.sync import SyncSetOut

CAMERA = dict(camera_id="a", online=True, fps=30.0, seq=3, last_capture_time_ns=10, age_ms=5.0,
              width=640, height=480, frames_total=4, gaps=0)
FRAME = dict(seq=3, capture_time_ns=1_000_000_000, hub_receive_time_ns=1_010_000_000, source_frame=None,
             width=640, height=480, bytes=1000)


def test_camera_status_reads_clock_fields_and_their_absence():
    assert CameraOut(**CAMERA).clock_offset_ms is None  # a client that does not synchronise its clock
    cam = CameraOut(**CAMERA, clock_offset_ms=-350.0, clock_uncertainty_ms=0.4)
    assert (cam.clock_offset_ms, cam.clock_uncertainty_ms) == (-350.0, 0.4)
    nulls = CameraOut(**CAMERA, clock_offset_ms=None, clock_uncertainty_ms=None)
    assert nulls.clock_uncertainty_ms is None


def test_sync_set_key_and_unsynchronised_clocks():
    sync = SyncSetOut.model_validate({"spread_ms": 2.5, "max_spread_ms": 20.0,
                                      "frames": [{"camera_id": c, **FRAME} for c in "ab"]})
    assert sync.max_uncertainty_ms is None  # no clock offsets: nothing vouches for the spread
    assert sync.key == (("a", 3, 1_000_000_000), ("b", 3, 1_000_000_000))


def test_sync_set_max_uncertainty():
    frames = [FrameMeta(camera_id="a", **FRAME, clock_offset_ns=5, clock_uncertainty_ns=400_000),
              FrameMeta(camera_id="b", **FRAME, clock_offset_ns=-5, clock_uncertainty_ns=1_500_000)]
    sync = SyncSetOut(spread_ms=0.0, max_spread_ms=20.0, frames=frames)
    assert sync.max_uncertainty_ms == pytest.approx(1.5)
    one_unknown = SyncSetOut(spread_ms=0.0, max_spread_ms=20.0, frames=[frames[0], FrameMeta(camera_id="b", **FRAME)])
    assert one_unknown.max_uncertainty_ms is None
