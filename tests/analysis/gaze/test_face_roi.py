"""The cheap skip: the pose decides whether, and where, the face mesh runs."""

from __future__ import annotations

import numpy as np

from analysis.gaze.face_mesh import face_roi_from_pose
from analysis.landmarks import LM


def pose(face_xy, visibility=0.9, size=(1280, 720)):
    """33 pose landmarks with the face points (0..10) around ``face_xy`` (pixels) and the rest far below."""
    lms = np.zeros((33, 4))
    lms[:, :2] = (0.5, 0.9)
    lms[:, 3] = 0.9
    offsets = {LM.NOSE: (0, 0), LM.LEFT_EYE: (12, -10), LM.RIGHT_EYE: (-12, -10), LM.LEFT_EAR: (30, -5),
               LM.RIGHT_EAR: (-30, -5), LM.MOUTH_LEFT: (8, 15), LM.MOUTH_RIGHT: (-8, 15)}
    for i in range(11):
        dx, dy = offsets.get(LM(i), (0, -10))
        lms[i, :2] = ((face_xy[0] + dx) / size[0], (face_xy[1] + dy) / size[1])
        lms[i, 3] = visibility
    return lms


def test_visible_face_gives_a_square_crop_around_the_head():
    roi = face_roi_from_pose(pose((640, 200)), (1280, 720))
    assert roi.skip is None and roi.face_px == 60  # ear to ear
    x0, y0, x1, y1 = roi.box
    assert x1 - x0 == y1 - y0 == 132  # 2.2 face sizes
    assert x0 < 610 and x1 > 670 and y0 < 185 and y1 > 215


def test_face_turned_away_or_too_small_is_skipped():
    assert face_roi_from_pose(pose((640, 200), visibility=0.1), (1280, 720)).skip == "no_face"
    small = face_roi_from_pose(pose((640, 200)), (1280, 720), min_face_px=80)
    assert small.skip == "face_too_small" and small.box is None


def test_crop_is_clipped_to_the_frame():
    roi = face_roi_from_pose(pose((10, 10)), (1280, 720))
    assert roi.box[0] == 0 and roi.box[1] == 0 and roi.box[2] > 10
