"""MediaPipe Pose inference for one camera: BGR frame in, 33 image and world landmarks out.

Uses the legacy ``mp.solutions.pose`` graph with ``model_complexity=1`` (the full model; complexity
2 would download the heavy model at run time, which FormSync must never do), video mode
(``static_image_mode=False``, so the tracker reuses the previous frame's ROI) and landmark smoothing.
One ``PoseEstimator`` per camera: the tracker and the smoothing filter carry state between frames,
so sharing an instance between cameras would mix their people.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from analysis.landmarks import NUM_LANDMARKS


@dataclass(frozen=True)
class PoseFrame:
    """One detected pose.

    Attributes:
        landmarks: float32 (33, 4): x, y normalised to the image width / height (0..1, may fall
            slightly outside when a joint is off-screen), z (MediaPipe's relative depth, same scale as
            x, smaller is nearer the camera) and visibility (0..1).
        world_landmarks: float32 (33, 4): x, y, z in metres, origin between the hips, y pointing
            down, plus visibility.
        image_size: (width, height) in pixels of the frame the pose was found in.
    """

    landmarks: np.ndarray
    world_landmarks: np.ndarray
    image_size: tuple[int, int]

    @property
    def aspect(self) -> float:
        """Width / height; multiply normalised x by it to get x in units of image height."""
        return self.image_size[0] / self.image_size[1]

    def image_xy(self) -> np.ndarray:
        """(33, 2) landmark positions in units of image height (x scaled by the aspect ratio), so
        distances and angles are not distorted by non-square normalisation."""
        xy = self.landmarks[:, :2].astype(np.float64).copy()
        xy[:, 0] *= self.aspect
        return xy


def _to_array(landmark_list) -> np.ndarray:
    out = np.empty((NUM_LANDMARKS, 4), np.float32)
    for i, lm in enumerate(landmark_list.landmark):
        out[i] = (lm.x, lm.y, lm.z, lm.visibility)
    return out


class PoseEstimator:
    """Stateful MediaPipe Pose tracker for one camera.

    Args:
        max_width: frames wider than this (pixels) are downscaled before inference; ``None`` keeps the
            native size. The network sees a 256x256 crop either way, so this only trades the cost of
            MediaPipe's own resize against ours (see bench/analysis_offline.py for the measurement).
        min_detection_confidence, min_tracking_confidence: MediaPipe's own thresholds (0..1), left at
            MediaPipe's default 0.5.

    ``estimate`` is not thread-safe; call it from the camera's analysis thread only.
    """

    def __init__(self, max_width: int | None = None, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5) -> None:
        # Imported here so that importing the analysis package (e.g. for scoring tests or the hub's
        # schemas) does not load MediaPipe and its TFLite runtime.
        import mediapipe as mp

        self.max_width = max_width
        self._pose = mp.solutions.pose.Pose(
            static_image_mode=False,
            model_complexity=1,
            smooth_landmarks=True,
            enable_segmentation=False,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )

    def estimate(self, frame_bgr: np.ndarray) -> PoseFrame | None:
        """Run pose on one BGR uint8 frame of shape (H, W, 3); ``None`` when no person is found.

        Raises ValueError for an array that is not (H, W, 3).
        """
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
            raise ValueError(f"expected a BGR frame of shape (H, W, 3), got {frame_bgr.shape}")
        h, w = frame_bgr.shape[:2]
        if self.max_width is not None and w > self.max_width:
            scale = self.max_width / w
            frame_bgr = cv2.resize(frame_bgr, (self.max_width, max(1, round(h * scale))),
                                   interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        result = self._pose.process(rgb)
        if result.pose_landmarks is None or result.pose_world_landmarks is None:
            return None
        # Normalised coordinates do not depend on our resize, so report the caller's frame size.
        return PoseFrame(_to_array(result.pose_landmarks), _to_array(result.pose_world_landmarks), (w, h))

    def close(self) -> None:
        """Release the MediaPipe graph; the estimator cannot be used afterwards."""
        self._pose.close()

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
