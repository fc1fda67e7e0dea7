"""Iris-ratio gaze on synthetic eye geometry: an iris placed where an eyeball of radius 0.4 x the eye
width puts it for known angles must read back as those angles, whatever the head roll."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.gaze.face_model import EYES
from analysis.gaze.iris import EYEBALL_RADIUS_OVER_WIDTH, combine_eyes, read_eye, read_eyes


def eye(yaw, pitch, width=40.0, gap=14.0, roll_deg=0.0, centre=(300.0, 200.0)):
    """(left corner, right corner, upper lid, lower lid, iris) in pixels for an eye looking at
    (yaw, pitch) degrees, rotated by ``roll_deg`` counter-clockwise in the image."""
    r = EYEBALL_RADIUS_OVER_WIDTH * width
    local = np.array([(-width / 2, 0), (width / 2, 0), (0, -gap / 2), (0, gap / 2),
                      (r * math.sin(math.radians(yaw)), -r * math.sin(math.radians(pitch)))])
    a = math.radians(roll_deg)
    # Counter-clockwise on screen with y pointing down.
    rot = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    return [tuple(p) for p in local @ rot.T + centre]


@pytest.mark.parametrize("yaw,pitch", [(0, 0), (20, 0), (-25, 0), (0, 15), (0, -12), (18, -10), (-30, 8)])
@pytest.mark.parametrize("roll", [0, 25, -40])
def test_iris_position_reads_back_as_the_angles(yaw, pitch, roll):
    reading = read_eye(*eye(yaw, pitch, roll_deg=roll))
    assert reading.yaw == pytest.approx(yaw, abs=0.01)
    assert reading.pitch == pytest.approx(pitch, abs=0.01)
    assert reading.width_px == pytest.approx(40.0)


def test_ratios_are_the_documented_ones():
    centred = read_eye(*eye(0, 0))
    assert centred.h == pytest.approx(0.5) and centred.v == pytest.approx(0.5)
    right = read_eye(*eye(30, 0))  # sin 30 = 0.5: the iris moves r / 2 = 0.2 widths right
    assert right.h == pytest.approx(0.7)
    up = read_eye(*eye(0, 30))  # towards the upper lid: v below 0.5
    assert up.v < 0.5


def test_iris_beyond_the_eyeball_saturates_at_90_degrees():
    a, b, up, lo, _ = eye(0, 0)
    assert read_eye(a, b, up, lo, (b[0] + 30, b[1])).yaw == pytest.approx(90.0)


def test_degenerate_eyes_are_not_read():
    p = (10.0, 10.0)
    assert read_eye(p, p, (10, 5), (10, 15), p) is None          # no width
    assert read_eye((0, 0), (40, 0), (20, 0), (20, 0), (20, 0)) is None  # lids touch


def test_both_eyes_from_landmarks_weighted_by_width():
    landmarks = np.zeros((478, 2))
    for name, (yaw, width, cx) in {"right": (10.0, 40.0, 250.0), "left": (20.0, 20.0, 350.0)}.items():
        pts = eye(yaw, 5.0, width=width, centre=(cx, 200.0))
        for key, p in zip(("left_corner", "right_corner", "upper", "lower", "iris"), pts):
            landmarks[EYES[name][key]] = p
    readings = read_eyes(landmarks)
    assert set(readings) == {"right", "left"}
    yaw, pitch = combine_eyes(readings)
    assert yaw == pytest.approx((10 * 40 + 20 * 20) / 60, abs=0.01)
    assert pitch == pytest.approx(5.0, abs=0.01)
    only_left = read_eyes(landmarks, {"right": False, "left": True})
    assert set(only_left) == {"left"} and combine_eyes(only_left)[0] == pytest.approx(20.0, abs=0.01)
    assert combine_eyes({}) is None
