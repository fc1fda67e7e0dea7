"""Face Mesh landmark indices used by the gaze modules, and the generic 3D face the head pose is
solved against.

Indices are MediaPipe Face Mesh's (468 mesh points; with ``refine_landmarks=True`` 10 iris points
follow: 468-472 the subject's right iris, 473-477 the left, centre first). "Right"/"left" are the
subject's own, as in MediaPipe's ``face_mesh_connections``; on an unmirrored camera the subject's
right eye is on the image's left.

The 3D points are vertices of MediaPipe's canonical face model,
``mediapipe/modules/face_geometry/data/canonical_face_model.obj`` (Apache-2.0, google/mediapipe),
whose vertex i is Face Mesh landmark i. Units are centimetres; x points to the subject's left,
y up, z out of the face towards the camera (the nose tip has the largest z).
"""

from __future__ import annotations

import numpy as np

NUM_FACE_LANDMARKS = 478
"""Landmarks per face with ``refine_landmarks=True`` (468 mesh + 10 iris)."""

NOSE_TIP = 1
RIGHT_IRIS_CENTER = 468
LEFT_IRIS_CENTER = 473

# Per eye, in image order for an upright face: the corner on the image's left, the one on the
# image's right, then the upper and lower lid at mid-eye. The six points of the eye aspect ratio
# (Soukupova & Cech 2016, p1..p6: corner, two upper-lid points, corner, two lower-lid points).
RIGHT_EYE = {"left_corner": 33, "right_corner": 133, "upper": 159, "lower": 145,
             "iris": RIGHT_IRIS_CENTER, "ear": (33, 160, 158, 133, 153, 144)}
LEFT_EYE = {"left_corner": 362, "right_corner": 263, "upper": 386, "lower": 374,
            "iris": LEFT_IRIS_CENTER, "ear": (362, 385, 387, 263, 373, 380)}
EYES = {"right": RIGHT_EYE, "left": LEFT_EYE}

# Head pose is solved on points that ride on the skull: forehead, nose bridge and tip, eye corners,
# cheekbones and the face outline at ear level. Mouth and chin are left out on purpose: they move
# with the jaw when the person talks or braces, which would read as head pitch.
POSE_POINTS: dict[int, tuple[float, float, float]] = {
    10: (0.000000, 8.261778, 4.481535),      # top of the forehead
    151: (0.000000, 6.545390, 5.027311),     # forehead
    168: (0.000000, 3.271027, 5.236015),     # between the eyebrows
    6: (0.000000, 2.473255, 5.788627),       # nose bridge
    4: (0.000000, -0.463170, 7.586580),      # nose, just above the tip
    1: (0.000000, -1.126865, 7.475604),      # nose tip
    33: (-4.445859, 2.663991, 3.173422),     # right eye, outer corner
    133: (-1.856432, 2.585245, 3.757904),    # right eye, inner corner
    362: (1.856432, 2.585245, 3.757904),     # left eye, inner corner
    263: (4.445859, 2.663991, 3.173422),     # left eye, outer corner
    234: (-7.664182, 0.673132, -2.435867),   # right face outline at ear level
    454: (7.664182, 0.673132, -2.435867),    # left face outline at ear level
    127: (-7.743095, 2.364999, -2.005167),   # right temple outline
    356: (7.743095, 2.364999, -2.005167),    # left temple outline
    93: (-7.542244, -1.049282, -2.431321),   # right cheek outline
    323: (7.542244, -1.049282, -2.431321),   # left cheek outline
}

POSE_INDICES: np.ndarray = np.array(list(POSE_POINTS), dtype=np.int64)
"""Landmark indices of ``MODEL_POINTS``, row for row."""

MODEL_POINTS: np.ndarray = np.array(list(POSE_POINTS.values()), dtype=np.float64)
"""(16, 3) canonical-model coordinates in cm of the landmarks ``POSE_INDICES``."""

# Pose landmarks (MediaPipe Pose topology, analysis.landmarks.LM) that outline the head: nose,
# eyes (inner, centre, outer), ears and mouth corners, indices 0..10.
POSE_FACE = tuple(range(11))
