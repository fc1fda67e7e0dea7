"""Head pose (yaw, pitch, roll in degrees) from Face Mesh landmarks with ``cv2.solvePnP``.

The 2D landmarks ``face_model.POSE_INDICES`` are matched to the generic 3D face
``face_model.MODEL_POINTS`` (MediaPipe's canonical face, cm). The camera is modelled as a pinhole
with focal length = image width in pixels and the principal point at the image centre, no
distortion: the usual stand-in for an uncalibrated webcam (about 53 degrees horizontal field of view;
S. Mallick, "Head Pose Estimation using OpenCV and Dlib", LearnOpenCV 2016). A wrong focal length
mostly scales the distance, not the angles.

Frames:
    model   x to the subject's left, y up, z out of the face (``face_model``);
    camera  OpenCV's: x right, y down, z forward into the scene;
    head    the model frame of a face looking straight into the camera: x towards the image's right,
            y up, z towards the camera. ``R_cam = FRONTAL @ R_head``.
Angles: ``R_head = Ry(yaw) @ Rx(-pitch) @ Rz(roll)``, so the face's forward vector
``R_head @ (0, 0, 1) = (cos p sin y, sin p, cos p cos y)``: yaw > 0 turns it to the image's right,
pitch > 0 up; roll > 0 turns the head counter-clockwise in the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from analysis.gaze.face_model import MODEL_POINTS

FRONTAL = np.diag([1.0, -1.0, -1.0])
"""Rotation from the head frame to OpenCV's camera frame for a face looking into the camera."""


@dataclass(frozen=True)
class HeadPose:
    """yaw, pitch, roll in degrees (module doc); ``rvec``/``tvec`` are solvePnP's model-to-camera
    rotation (Rodrigues, radians) and translation (cm); ``reprojection_px`` the RMS error."""

    yaw: float
    pitch: float
    roll: float
    rvec: np.ndarray
    tvec: np.ndarray
    reprojection_px: float

    def to_dict(self) -> dict[str, float]:
        return {"yaw": round(self.yaw, 2), "pitch": round(self.pitch, 2), "roll": round(self.roll, 2)}


def camera_matrix(width: int, height: int, focal_px: float | None = None) -> np.ndarray:
    """(3, 3) pinhole intrinsics: focal ``focal_px`` (default the image width), centre principal point."""
    f = float(focal_px if focal_px is not None else width)
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


def rotation_from_angles(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """``R_head`` (3, 3) for angles in degrees (module doc)."""
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(-p), -math.sin(-p)], [0, math.sin(-p), math.cos(-p)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return ry @ rx @ rz


def angles_from_rotation(r_head: np.ndarray) -> tuple[float, float, float]:
    """Inverse of ``rotation_from_angles``: (yaw, pitch, roll) in degrees, pitch in [-90, 90]."""
    forward = r_head[:, 2]
    yaw = math.degrees(math.atan2(forward[0], forward[2]))
    pitch = math.degrees(math.asin(float(np.clip(forward[1], -1.0, 1.0))))
    # Undo yaw and pitch; what is left is Rz(roll).
    rest = rotation_from_angles(0.0, -pitch, 0.0) @ rotation_from_angles(-yaw, 0.0, 0.0) @ r_head
    roll = math.degrees(math.atan2(rest[1, 0], rest[0, 0]))
    return yaw, pitch, roll


def project(model_points: np.ndarray, r_head: np.ndarray, tvec: np.ndarray, camera: np.ndarray) -> np.ndarray:
    """(N, 2) pixel positions of ``model_points`` (cm) for a head rotated by ``r_head`` at ``tvec``
    (cm, camera frame): what the solver inverts; tests build synthetic landmarks with it."""
    rvec, _ = cv2.Rodrigues(FRONTAL @ r_head)
    pts, _ = cv2.projectPoints(np.asarray(model_points, np.float64), rvec, np.asarray(tvec, np.float64),
                               camera, None)
    return pts.reshape(-1, 2)


def solve_head_pose(image_points: np.ndarray, camera: np.ndarray,
                    model_points: np.ndarray = MODEL_POINTS) -> HeadPose | None:
    """Head pose from (N, 2) pixel positions matching ``model_points`` (N, 3) row for row, N >= 4.

    Uses SQPnP (Terzakis & Lourakis, ECCV 2020), a globally optimal solver that needs no initial
    guess. Returns None when the solver fails or the head would be behind the camera.
    Raises ValueError when the shapes do not match.
    """
    image_points = np.asarray(image_points, np.float64).reshape(-1, 2)
    model_points = np.asarray(model_points, np.float64).reshape(-1, 3)
    if len(image_points) != len(model_points) or len(image_points) < 4:
        raise ValueError(f"need N >= 4 matching points, got {len(image_points)} image and "
                         f"{len(model_points)} model points")
    ok, rvec, tvec = cv2.solvePnP(model_points, image_points, camera, None, flags=cv2.SOLVEPNP_SQPNP)
    if not ok or tvec[2, 0] <= 0:
        return None
    r_cam, _ = cv2.Rodrigues(rvec)
    yaw, pitch, roll = angles_from_rotation(FRONTAL.T @ r_cam)
    reproj, _ = cv2.projectPoints(model_points, rvec, tvec, camera, None)
    rms = float(np.sqrt(np.mean(np.sum((reproj.reshape(-1, 2) - image_points) ** 2, axis=1))))
    return HeadPose(yaw, pitch, roll, rvec.ravel(), tvec.ravel(), rms)


def direction_vector(yaw: float, pitch: float) -> np.ndarray:
    """Unit vector (head frame: x image-right, y up, z towards the camera) of a direction given as
    yaw/pitch in degrees; (0, 0, 1) looks into the camera."""
    y, p = math.radians(yaw), math.radians(pitch)
    return np.array([math.cos(p) * math.sin(y), math.sin(p), math.cos(p) * math.cos(y)])
