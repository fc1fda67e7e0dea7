"""Calibration: 2 s of gaze at the screen's centre sets the target; bad holds fail with a reason."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.gaze.calibration import Calibrator

FRAME_NS = 33_333_334  # rounded up, so 60 frames span at least 2 s


def run(cal, directions, start_ns=10**12):
    return [cal.update(start_ns + i * FRAME_NS, d) for i, d in enumerate(directions)]


def test_steady_gaze_sets_the_median_target():
    rng = np.random.default_rng(0)
    cal = Calibrator()
    cal.start(2.0, "req-1")
    looks = [(-4 + rng.normal(0, 1), -8 + rng.normal(0, 1)) for _ in range(70)]
    looks[10] = (40.0, 30.0)  # a glance away and a blink do not move the median
    looks[20] = None
    states = run(cal, looks)
    assert states[0].state == "running" and states[30].progress == pytest.approx(0.5, abs=0.02)
    done = [s for s in states if s.state == "done"]
    assert done and done[0] is states[60]  # 60 frames = 2.0 s after the first
    assert done[0].target_yaw == pytest.approx(-4, abs=0.6)
    assert done[0].target_pitch == pytest.approx(-8, abs=0.6)
    assert done[0].request_id == "req-1" and not cal.running
    assert states[-1] == done[0]  # finished: later frames change nothing


def test_no_face_fails():
    cal = Calibrator()
    cal.start(1.0)
    final = run(cal, [None] * 25 + [(0.0, 0.0)] * 10)[-1]
    assert final.state == "failed" and "gaze read in" in final.message


def test_wandering_gaze_fails():
    cal = Calibrator()
    cal.start(1.0)
    final = run(cal, [(float(x), 0.0) for x in np.linspace(-30, 30, 35)])[-1]
    assert final.state == "failed" and "moved" in final.message


def test_restart_and_cancel():
    cal = Calibrator()
    with pytest.raises(ValueError):
        cal.start(0)
    cal.start(1.0)
    run(cal, [(0.0, 0.0)] * 10)
    cal.start(1.0, "again")
    assert cal.status.progress == 0 and cal.status.request_id == "again"
    cal.cancel()
    assert cal.status.state == "idle" and not cal.running
