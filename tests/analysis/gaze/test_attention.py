"""On-target cone and the attention window's time arithmetic."""

from __future__ import annotations

import pytest

from analysis.gaze.attention import AttentionWindow, angle_between, on_target

S = 1_000_000_000


def test_angle_between_directions():
    assert angle_between(0, 0, 0, 0) == pytest.approx(0)
    assert angle_between(10, 0, -10, 0) == pytest.approx(20)
    assert angle_between(0, 30, 0, -15) == pytest.approx(45)
    assert angle_between(90, 0, -90, 0) == pytest.approx(180)
    # Yaw counts for less away from the horizon: 20 deg of yaw at 60 deg pitch is ~10 deg of arc.
    assert angle_between(10, 60, -10, 60) == pytest.approx(10, abs=0.1)


def test_cone_and_hysteresis():
    assert on_target(10, 5, 0, 0, 15)
    assert not on_target(14, 6, 0, 0, 15)
    assert not on_target(16, 0, 0, 0, 15, was_on=False, hysteresis_deg=2)
    assert on_target(16, 0, 0, 0, 15, was_on=True, hysteresis_deg=2)
    assert not on_target(17.5, 0, 0, 0, 15, was_on=True, hysteresis_deg=2)
    assert on_target(-4, -20, -4, -8, 15)  # around a calibrated target, not the camera


def test_share_is_time_weighted():
    w = AttentionWindow(window_s=10)
    assert w.share() is None
    w.add(0, True)
    assert w.share() is None  # one sample spans no time yet
    w.add(3 * S // 10, True)  # on for 0.3 s
    w.add(4 * S // 10, False)  # on for 0.1 s more
    w.add(10 * S // 10, False)  # off for 0.6 s
    assert w.share() == pytest.approx(0.4)


def test_share_does_not_depend_on_the_frame_rate():
    fast, slow = AttentionWindow(10), AttentionWindow(10)
    for i in range(301):  # 30 fps for 10 s: on for the first 2.5 s of each 5 s
        t = i * S // 30
        fast.add(t, (t % (5 * S)) < 2.5 * S)
    for i in range(41):  # 4 fps, the same pattern
        t = i * S // 4
        slow.add(t, (t % (5 * S)) < 2.5 * S)
    assert fast.share() == pytest.approx(0.5, abs=0.01)
    assert slow.share() == pytest.approx(0.5, abs=0.01)


def test_window_slides_and_clips_the_oldest_span():
    w = AttentionWindow(window_s=10, max_gap_s=100)
    w.add(0, True)
    w.add(6 * S, False)   # on 0-6 s
    w.add(12 * S, False)  # off 6-12 s; window 2-12 s: on 4 of 10 s
    assert w.share() == pytest.approx(0.4)
    w.add(16 * S, True)   # off 12-16 s; window 6-16: on 0 of 10
    assert w.share() == pytest.approx(0.0)
    w.add(20 * S, True)   # on 16-20; window 10-20: on 4 of 10
    assert w.share() == pytest.approx(0.4)


def test_long_gaps_are_left_out_and_old_samples_ignored():
    w = AttentionWindow(window_s=10, max_gap_s=1)
    w.add(0, True)
    w.add(5 * S, False)  # a 5 s stall: only 1 s of "on" is counted
    w.add(6 * S, False)  # 1 s off
    assert w.share() == pytest.approx(0.5)
    w.add(3 * S, True)  # out of order: ignored
    assert w.share() == pytest.approx(0.5)
    w.reset()
    assert w.share() is None


def test_bad_window_raises():
    with pytest.raises(ValueError):
        AttentionWindow(0)
