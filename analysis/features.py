"""Everything the analysis derives from one pose, computed once per frame (``FrameFeatures``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.angles import angle_vector
from analysis.landmarks import LM
from analysis.normalize import normalize_pose
from analysis.pose import PoseFrame
from analysis.reps import MIN_VISIBILITY
from analysis.scoring import angle_features


def leg_length(world: np.ndarray) -> float:
    """Mean over both legs of thigh + shin length (3-D), in the units of ``world`` (33, >=3)."""
    w = np.asarray(world, np.float64)[:, :3]
    seg = lambda a, b: np.linalg.norm(w[a] - w[b])
    return float((seg(LM.LEFT_HIP, LM.LEFT_KNEE) + seg(LM.LEFT_KNEE, LM.LEFT_ANKLE)
                  + seg(LM.RIGHT_HIP, LM.RIGHT_KNEE) + seg(LM.RIGHT_KNEE, LM.RIGHT_ANKLE)) / 2)


def hip_height(world: np.ndarray) -> float:
    """Height of the hip midpoint above the ankle midpoint over leg length (see ``reps`` module doc).

    ~1 standing straight, ~0.2-0.75 at the bottom of a squat, negative for a broken detection with
    the ankles above the hips. NaN if the leg length is zero. Input (33, >=3) world landmarks, y down.
    """
    w = np.asarray(world, np.float64)
    legs = leg_length(w)
    if not legs > 0:
        return float("nan")
    ankle_y = (w[LM.LEFT_ANKLE, 1] + w[LM.RIGHT_ANKLE, 1]) / 2
    hip_y = (w[LM.LEFT_HIP, 1] + w[LM.RIGHT_HIP, 1]) / 2
    return float((ankle_y - hip_y) / legs)


_LEGS = ((LM.LEFT_HIP, LM.LEFT_KNEE, LM.LEFT_ANKLE), (LM.RIGHT_HIP, LM.RIGHT_KNEE, LM.RIGHT_ANKLE))


def legs_visible(landmarks: np.ndarray, min_visibility: float = MIN_VISIBILITY) -> bool:
    """True if one leg's hip, knee and ankle all have visibility >= ``min_visibility``. Input (33, 4)."""
    vis = np.asarray(landmarks)[:, 3]
    return any(all(vis[j] >= min_visibility for j in leg) for leg in _LEGS)


@dataclass(frozen=True)
class FrameFeatures:
    """Derived data of one analysed frame.

    index: the frame's seq; capture_time_ns: capture clock of the frame;
    pose: the raw ``PoseFrame``; image_xy (33, 2) isotropic image points; angles (7,) degrees in
    ``angles.ANGLE_NAMES`` order; features (4,) degrees in ``scoring.FEATURE_NAMES`` order;
    norm (33, 3) normalised pose (NaN-filled if degenerate); hip_height in leg lengths;
    knee = mean knee angle in degrees; legs_visible: one leg's hip, knee and ankle all have
    MediaPipe visibility >= ``reps.MIN_VISIBILITY`` (a side view hides the far leg).
    """

    index: int
    capture_time_ns: int
    pose: PoseFrame
    image_xy: np.ndarray
    angles: np.ndarray
    features: np.ndarray
    norm: np.ndarray
    hip_height: float
    knee: float
    legs_visible: bool = True

    @property
    def visibility(self) -> np.ndarray:
        return self.pose.landmarks[:, 3]

    @property
    def world(self) -> np.ndarray:
        return self.pose.world_landmarks

    @classmethod
    def from_pose(cls, pose: PoseFrame, index: int, capture_time_ns: int) -> FrameFeatures:
        angles = angle_vector(pose.world_landmarks)
        feats = angle_features(angles)
        try:
            norm = normalize_pose(pose.world_landmarks)
        except ValueError:
            norm = np.full((33, 3), np.nan)
        return cls(index, capture_time_ns, pose, pose.image_xy(), angles, feats, norm,
                   hip_height(pose.world_landmarks), float(feats[0]), legs_visible(pose.landmarks))
