"""Named indices of the 33 MediaPipe Pose landmarks and the groups the analysis uses.

The numbering is MediaPipe's BlazePose topology (``mp.solutions.pose.PoseLandmark``), copied here so
that the geometry modules and their tests do not import MediaPipe. Source:
https://developers.google.com/mediapipe/solutions/vision/pose_landmarker#pose_landmarker_model
"""

from __future__ import annotations

from enum import IntEnum

NUM_LANDMARKS = 33
"""Landmarks per pose; every landmark array in the package has shape (33, 4) = x, y, z, visibility."""


class LM(IntEnum):
    """Index of each landmark in a (33, 4) array (same order as ``mp.solutions.pose.PoseLandmark``)."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


SIDES = ("left", "right")

# Squat form lives in the trunk and legs. Arms are left out on purpose: a barbell squat holds the bar
# on the back while a bodyweight squat reaches forward, and that difference is style, not form.
SQUAT_KEYPOINTS: tuple[LM, ...] = (
    LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER,
    LM.LEFT_HIP, LM.RIGHT_HIP,
    LM.LEFT_KNEE, LM.RIGHT_KNEE,
    LM.LEFT_ANKLE, LM.RIGHT_ANKLE,
    LM.LEFT_HEEL, LM.RIGHT_HEEL,
    LM.LEFT_FOOT_INDEX, LM.RIGHT_FOOT_INDEX,
)


def side(name: str, which: str) -> LM:
    """The landmark ``<WHICH>_<NAME>``, e.g. ``side("knee", "left") is LM.LEFT_KNEE``.

    Raises KeyError for an unknown name or side.
    """
    return LM[f"{which.upper()}_{name.upper()}"]


def mirror_index() -> list[int]:
    """Permutation that swaps every left landmark with its right twin (nose etc. stay).

    ``arr[mirror_index()]`` relabels a pose as its mirror image's left/right.
    """
    perm = list(range(NUM_LANDMARKS))
    for lm in LM:
        if lm.name.startswith("LEFT_"):
            twin = LM["RIGHT_" + lm.name[len("LEFT_"):]]
            perm[lm], perm[twin] = int(twin), int(lm)
    return perm
