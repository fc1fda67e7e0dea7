"""Eye aspect ratio (Soukupova & Cech 2016) and blink counting on synthetic eyes."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.gaze.blink import MAX_BLINK_S, BlinkDetector, eye_aspect_ratio, eye_aspect_ratios
from analysis.gaze.face_model import EYES

MS = 1_000_000


def six_points(width=30.0, opening=9.0):
    """p1..p6 of an eye: corners at 0 and ``width``, lids ``opening`` apart at 1/3 and 2/3."""
    h = opening / 2
    return [(0, 0), (10, -h), (20, -h), (width, 0), (20, h), (10, h)]


def test_ear_is_opening_over_width():
    assert eye_aspect_ratio(*six_points(30, 9)) == pytest.approx(9 / 30)
    assert eye_aspect_ratio(*six_points(30, 0)) == 0.0
    assert np.isnan(eye_aspect_ratio(*[(5, 5)] * 6))


def test_ear_of_both_eyes_from_landmarks():
    landmarks = np.zeros((478, 2))
    for name, opening in (("right", 9.0), ("left", 3.0)):
        for i, p in zip(EYES[name]["ear"], six_points(30, opening)):
            landmarks[i] = p
    ears = eye_aspect_ratios(landmarks)
    assert ears == pytest.approx({"right": 0.3, "left": 0.1})


def feed(detector, ears, period_ms=33):
    return [detector.update(e, i * period_ms * MS) for i, e in enumerate(ears)]


def test_a_short_closure_is_one_blink():
    states = feed(BlinkDetector(), [0.3] * 5 + [0.12] * 4 + [0.3] * 5)
    assert [s.blink for s in states].count(True) == 1
    assert states[9].blink and states[8].eyes_closed and not states[9].eyes_closed
    assert states[-1].blinks == 1


def test_a_single_closed_frame_counts_but_jitter_at_the_threshold_does_not():
    assert feed(BlinkDetector(), [0.3, 0.15, 0.3])[-1].blinks == 1
    # Around the threshold without ever reopening above threshold + margin: one closure, no blink yet.
    states = feed(BlinkDetector(0.2), [0.3, 0.19, 0.21, 0.19, 0.22, 0.19])
    assert states[-1].blinks == 0 and states[-1].eyes_closed


def test_eyes_kept_shut_are_not_a_blink():
    frames_shut = int(MAX_BLINK_S * 1000 / 33) + 10
    assert feed(BlinkDetector(), [0.3] + [0.1] * frames_shut + [0.3])[-1].blinks == 0


def test_frames_without_a_face_keep_the_state():
    d = BlinkDetector()
    d.update(0.1, 0)
    assert d.update(None, 33 * MS).eyes_closed
    assert d.update(float("nan"), 66 * MS).eyes_closed
    assert d.update(0.3, 100 * MS).blink
