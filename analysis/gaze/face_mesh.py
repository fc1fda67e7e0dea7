"""MediaPipe Face Mesh for one camera: BGR frame in, 478 face landmarks (with irises) out.

Uses the legacy ``mp.solutions.face_mesh`` graph bundled with ``mediapipe==0.10.21`` (no download at
run time) with ``refine_landmarks=True`` (the attention model that adds the 10 iris points), video
mode (``static_image_mode=False``: the face detector runs only until a face is tracked) and one face.

Cheap skips. When the pose of the same frame is known (``face_roi_from_pose``), the face mesh runs
only on a square crop around the head the pose found, and not at all when the pose sees no face or
a face smaller than ``min_face_px``: the crop is what lets the short-range face detector (made for
faces within about 2 m) find a full-body athlete's face, and the skip is what keeps a camera
without a usable face at the cost of a few arithmetic operations. Without a pose the whole frame
is used at its own size (MediaPipe warps the face region to its 192x192 input itself; a
resize of ours cost 3-4 ms per 1080x720 frame, as much as the face mesh).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from analysis.gaze.face_model import NUM_FACE_LANDMARKS, POSE_FACE

DEFAULT_MIN_FACE_PX = 40.0
"""Smallest face (largest distance between the pose's visible face points, about ear to ear) worth
a face mesh: below it an eye spans under 8 px and the iris 2-3 px, so iris gaze is noise."""
CROP_SCALE = 2.2
"""Crop side / face size: room for the forehead and chin and for the tracker to follow the head."""
MIN_VISIBILITY = 0.5


@dataclass(frozen=True)
class FaceFrame:
    """One face. ``landmarks_px``: float64 (478, 3): x, y in pixels of the caller's frame, z
    MediaPipe's relative depth (same scale as x, smaller is nearer). ``image_size``: (width, height)."""

    landmarks_px: np.ndarray
    image_size: tuple[int, int]

    @property
    def box_px(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) pixel bounds of the mesh."""
        xy = self.landmarks_px[:, :2]
        return (*xy.min(axis=0).tolist(), *xy.max(axis=0).tolist())

    def normalised(self, index: int) -> tuple[float, float]:
        """Landmark ``index`` as (x, y) normalised to the frame's width and height."""
        w, h = self.image_size
        return float(self.landmarks_px[index, 0] / w), float(self.landmarks_px[index, 1] / h)


@dataclass(frozen=True)
class FaceRoi:
    """Where to look for the face: ``box`` (x0, y0, x1, y1) in pixels, or ``None`` with ``skip`` saying
    why not to look at all ("no_face" or "face_too_small"); ``face_px`` the face size the pose gave."""

    box: tuple[int, int, int, int] | None
    skip: str | None
    face_px: float = 0.0


def face_roi_from_pose(pose_landmarks: np.ndarray, image_size: tuple[int, int],
                       min_face_px: float = DEFAULT_MIN_FACE_PX) -> FaceRoi:
    """Crop box for the face mesh from MediaPipe Pose landmarks (33, 4) normalised (x, y, z, vis).

    The nose and at least one more face point (eyes, ears, mouth; pose indices 0-10) must have
    visibility >= 0.5, else ``skip="no_face"`` (e.g. the person faces away). The face size is the
    largest distance between the visible face points (about ear to ear frontally, ear to nose in
    profile); below ``min_face_px`` the skip is ``"face_too_small"``.
    """
    w, h = image_size
    face = np.asarray(pose_landmarks, np.float64)[list(POSE_FACE)]
    visible = face[face[:, 3] >= MIN_VISIBILITY]
    if face[0, 3] < MIN_VISIBILITY or len(visible) < 2:
        return FaceRoi(None, "no_face")
    xy = visible[:, :2] * (w, h)
    size = float(np.max(np.linalg.norm(xy[:, None] - xy[None], axis=-1)))
    if size < min_face_px:
        return FaceRoi(None, "face_too_small", size)
    cx, cy = xy.mean(axis=0)
    half = CROP_SCALE * size / 2
    box = (max(0, int(cx - half)), max(0, int(cy - half)), min(w, int(cx + half)), min(h, int(cy + half)))
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:  # the head is (almost) out of the frame
        return FaceRoi(None, "no_face", size)
    return FaceRoi(box, None, size)


class FaceMeshEstimator:
    """Stateful MediaPipe Face Mesh tracker for one camera.

    Args:
        max_width: whole frames wider than this (pixels) are downscaled first (default: never);
            crops never are.
        min_detection_confidence, min_tracking_confidence: MediaPipe's thresholds (0..1), its default 0.5.

    ``estimate`` is not thread-safe; call it from the camera's analysis thread only.
    """

    def __init__(self, max_width: int | None = None, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5) -> None:
        # Imported here so that the geometry modules and the hub never load MediaPipe.
        import mediapipe as mp

        self.max_width = max_width
        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False,
            max_num_faces=1,
            refine_landmarks=True,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )

    def estimate(self, frame_bgr: np.ndarray,
                 box: tuple[int, int, int, int] | None = None) -> FaceFrame | None:
        """Face landmarks in a BGR uint8 frame (H, W, 3), searched within ``box`` (x0, y0, x1, y1 pixels)
        or the whole frame; None when no face is found. Raises ValueError for a frame not (H, W, 3)."""
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
            raise ValueError(f"expected a BGR frame of shape (H, W, 3), got {frame_bgr.shape}")
        h, w = frame_bgr.shape[:2]
        if box is not None:
            x0, y0, x1, y1 = box
            image = frame_bgr[y0:y1, x0:x1]
            span_w, span_h = x1 - x0, y1 - y0
        else:
            x0 = y0 = 0
            span_w, span_h = w, h
            image = frame_bgr
            if self.max_width is not None and w > self.max_width:
                image = cv2.resize(frame_bgr, (self.max_width, max(1, round(h * self.max_width / w))),
                                   interpolation=cv2.INTER_AREA)
        result = self._mesh.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        if not result.multi_face_landmarks:
            return None
        lms = result.multi_face_landmarks[0].landmark
        if len(lms) != NUM_FACE_LANDMARKS:
            return None
        arr = np.array([(p.x, p.y, p.z) for p in lms], np.float64)
        # Normalised to the crop or the (downscaled) frame -> pixels of the caller's frame.
        arr[:, 0] = x0 + arr[:, 0] * span_w
        arr[:, 1] = y0 + arr[:, 1] * span_h
        arr[:, 2] *= span_w
        return FaceFrame(arr, (w, h))

    def close(self) -> None:
        """Release the MediaPipe graph; the estimator cannot be used afterwards."""
        self._mesh.close()

    def __enter__(self) -> FaceMeshEstimator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
