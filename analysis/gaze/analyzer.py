"""Per-camera gaze session: one frame in, head pose, gaze, blink, on-target and attention out.

    gaze = GazeAnalyzer("cam-front")
    gaze.analyze(frame_bgr, seq=seq, capture_time_ns=t)                        # whole frame
    gaze.analyze(frame_bgr, seq=seq, capture_time_ns=t, pose_landmarks=lms)    # crop from the pose
    gaze.start_calibration()          # the next 2 s of gaze set this camera's target

``analyze`` returns the JSON-ready dict the hub's ``GazeOut`` validates (server/schemas.py):

    face_found      bool
    skipped         None, or why the face mesh did not run: "no_person" | "no_face" | "face_too_small"
    face_box        [x0, y0, x1, y1] of the face mesh, normalised to the frame (0..1), or None
    nose            [x, y] nose tip, normalised (where a dashboard draws the gaze arrow), or None
    head            {"yaw", "pitch", "roll"} head pose, degrees (``head_pose``), or None
    eyes            {"yaw", "pitch"} eye-in-head gaze from the irises, degrees (``iris``), or None
    direction       {"yaw", "pitch"} combined gaze = head + eyes, degrees, or None
    ear             mean eye aspect ratio of both eyes (``blink``), or None
    eyes_closed     bool; blink: True on the frame a blink ended; blinks: count since start
    on_target       bool (False without a face), or None before any frame
    attention       % of on-target time over the last ``window_s`` seconds (``attention``); None before
                    two frames, and None when no face was seen in the whole window: a camera that
                    never sees the face (a side view in profile) knows nothing of the gaze, which is
                    not the same as a person looking away (0 %)
    target          {"yaw", "pitch", "cone_deg", "calibrated"}
    calibration     {"state": idle|running|done|failed, "progress" 0..1, "request_id", "message"}
    processing_ms   wall time of this call

Combining head and eye angles by addition is the small-angle approximation of composing the two
rotations; it is within a degree or two for eye angles under 20 degrees. During a blink the eyes
cannot be read, so the last eye reading (at most ``EYE_HOLD_S`` old) is kept: the eyes do not move
meaningfully within a blink. Not thread-safe: one analyzer per camera, on its analysis thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.gaze.attention import (
    DEFAULT_CONE_DEG,
    DEFAULT_HYSTERESIS_DEG,
    DEFAULT_WINDOW_S,
    AttentionWindow,
    on_target,
)
from analysis.gaze.blink import DEFAULT_CLOSED_EAR, BlinkDetector, eye_aspect_ratios
from analysis.gaze.calibration import DEFAULT_DURATION_S, Calibrator
from analysis.gaze.face_mesh import DEFAULT_MIN_FACE_PX, FaceMeshEstimator, face_roi_from_pose
from analysis.gaze.face_model import NOSE_TIP, POSE_INDICES
from analysis.gaze.head_pose import camera_matrix, solve_head_pose
from analysis.gaze.iris import combine_eyes, read_eyes
from analysis.gaze.summary import GazeSetSummary

EYE_HOLD_S = 0.5
"""Longest a previous eye reading stands in for closed eyes (a blink lasts 100-400 ms)."""


@dataclass(frozen=True)
class GazeSettings:
    """Tunables of one camera's gaze analysis.

    cone_deg: on-target half-angle, degrees (``attention``). window_s: attention window, seconds.
    target_yaw / target_pitch: target direction before any calibration, degrees (0, 0 = into the camera).
    calibration_s: default calibration length, seconds. closed_ear: EAR below which eyes are closed.
    min_face_px: smallest face worth a face mesh, pixels (``face_mesh``). max_width: whole frames wider
    than this are downscaled for the face mesh (default never; ``face_mesh``).
    """

    cone_deg: float = DEFAULT_CONE_DEG
    window_s: float = DEFAULT_WINDOW_S
    target_yaw: float = 0.0
    target_pitch: float = 0.0
    calibration_s: float = DEFAULT_DURATION_S
    closed_ear: float = DEFAULT_CLOSED_EAR
    min_face_px: float = DEFAULT_MIN_FACE_PX
    max_width: int | None = None


def _r(x: float, nd: int = 2) -> float:
    return round(float(x), nd)


def _unit(x: float) -> float:
    return min(1.0, max(0.0, float(x)))


def _direction(yaw: float, pitch: float) -> tuple[float, float]:
    """Yaw wrapped to [-180, 180), pitch clamped to [-90, 90]: head + eye angles can step past them."""
    return (yaw + 180.0) % 360.0 - 180.0, min(90.0, max(-90.0, pitch))


class GazeAnalyzer:
    """Stateful gaze analysis of one camera's frames (module doc).

    Args:
        camera_id: for logs and results.
        settings: ``GazeSettings``.
        estimator: anything with ``estimate(frame_bgr, box=None) -> FaceFrame | None``; default a new
            ``FaceMeshEstimator`` (one MediaPipe graph per analyzer, never shared between cameras).
    """

    def __init__(self, camera_id: str = "cam", settings: GazeSettings | None = None, estimator=None) -> None:
        self.camera_id = camera_id
        self.settings = settings or GazeSettings()
        self._estimator = estimator
        self.attention = AttentionWindow(self.settings.window_s)
        self.face_seen = AttentionWindow(self.settings.window_s)  # share of the window with a face
        self.blinks = BlinkDetector(self.settings.closed_ear)
        self.calibrator = Calibrator()
        self.set_summary = GazeSetSummary()
        self.target = (self.settings.target_yaw, self.settings.target_pitch)
        self.calibrated = False
        self._eyes: tuple[int, tuple[float, float]] | None = None  # (capture time, last eye reading)
        self._was_on = False

    @property
    def estimator(self):
        if self._estimator is None:
            self._estimator = FaceMeshEstimator(max_width=self.settings.max_width)
        return self._estimator

    # -- calibration ---------------------------------------------------------------------------

    def start_calibration(self, duration_s: float | None = None, request_id: str | None = None) -> None:
        """Take the target from the gaze of the next ``duration_s`` seconds (default the settings').
        Raises ValueError for a non-positive duration."""
        self.calibrator.start(duration_s or self.settings.calibration_s, request_id)

    def reset_target(self) -> None:
        """Back to the settings' target; cancels a running calibration."""
        self.calibrator.cancel()
        self.target = (self.settings.target_yaw, self.settings.target_pitch)
        self.calibrated = False

    # -- frames --------------------------------------------------------------------------------

    def analyze(self, image_bgr: np.ndarray, *, seq: int, capture_time_ns: int,
                pose_landmarks: np.ndarray | None = None, person_found: bool | None = None) -> dict[str, Any]:
        """Gaze of one BGR uint8 frame (H, W, 3); the dict of the module doc.

        ``person_found=False`` (the pose saw nobody) skips the face mesh; ``pose_landmarks`` (33, 4),
        normalised like ``PoseFrame.landmarks``, restricts it to the head (``face_roi_from_pose``).
        Neither: the whole frame is searched. Raises ValueError for a frame of the wrong shape.
        """
        t0 = time.perf_counter()
        if image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
            raise ValueError(f"expected a BGR frame of shape (H, W, 3), got {image_bgr.shape}")
        h, w = image_bgr.shape[:2]
        skipped, face = None, None
        if person_found is False:
            skipped = "no_person"
        elif pose_landmarks is not None:
            roi = face_roi_from_pose(np.asarray(pose_landmarks), (w, h), self.settings.min_face_px)
            skipped = roi.skip
            if roi.box is not None:
                face = self.estimator.estimate(image_bgr, roi.box)
        else:
            face = self.estimator.estimate(image_bgr)

        out: dict[str, Any] = {"face_found": face is not None, "skipped": skipped, "face_box": None,
                               "nose": None, "head": None, "eyes": None, "direction": None, "ear": None}
        closed = blink = False
        direction = head_pitch = None
        if face is not None:
            closed, blink = self._measure(face, capture_time_ns, out)
            if out["direction"] is not None:
                direction = (out["direction"]["yaw"], out["direction"]["pitch"])
            head_pitch = out["head"]["pitch"] if out["head"] is not None else None

        hit = direction is not None and on_target(*direction, *self.target, self.settings.cone_deg,
                                                  self._was_on, DEFAULT_HYSTERESIS_DEG)
        self._was_on = hit
        self.attention.add(capture_time_ns, hit)
        self.face_seen.add(capture_time_ns, face is not None)
        share = self.attention.share() if face is not None or self.face_seen.share() else None
        was_running = self.calibrator.running
        status = self.calibrator.update(capture_time_ns, direction)
        if was_running and status.state == "done":
            self.target = (status.target_yaw, status.target_pitch)
            self.calibrated = True
        self.set_summary.add(capture_time_ns, face_found=face is not None, on_target=hit, blink=blink,
                             direction=direction, head_pitch=head_pitch)
        out.update({
            "eyes_closed": closed,
            "blink": blink,
            "blinks": self.blinks.blinks,
            "on_target": hit,
            "attention": None if share is None else _r(100 * share, 1),
            "target": {"yaw": _r(self.target[0]), "pitch": _r(self.target[1]),
                       "cone_deg": _r(self.settings.cone_deg), "calibrated": self.calibrated},
            "calibration": status.to_dict(),
            "processing_ms": _r((time.perf_counter() - t0) * 1e3, 3),
        })
        return out

    def _measure(self, face, capture_time_ns: int, out: dict[str, Any]) -> tuple[bool, bool]:
        """Fill ``out``'s face fields from one face (``face_mesh.FaceFrame``); (eyes closed, blink)."""
        w, h = face.image_size
        px = face.landmarks_px[:, :2]
        x0, y0, x1, y1 = face.box_px
        out["face_box"] = [_r(_unit(v), 4) for v in (x0 / w, y0 / h, x1 / w, y1 / h)]
        out["nose"] = [_r(_unit(v), 4) for v in face.normalised(NOSE_TIP)]
        ears = eye_aspect_ratios(px)
        finite = [v for v in ears.values() if np.isfinite(v)]
        ear = float(np.mean(finite)) if finite else None
        if ear is not None and not 0.0 <= ear <= 2.0:  # a degenerate (edge-on) eye, not a reading
            ear = None
        state = self.blinks.update(ear, capture_time_ns)
        out["ear"] = None if ear is None else _r(ear, 3)
        eyes = combine_eyes(read_eyes(px, {k: v >= self.settings.closed_ear for k, v in ears.items()}))
        if eyes is not None and not state.eyes_closed:
            self._eyes = (capture_time_ns, eyes)
        elif self._eyes is not None and capture_time_ns - self._eyes[0] <= EYE_HOLD_S * 1e9:
            eyes = self._eyes[1]
        else:
            eyes = None
        head = solve_head_pose(px[POSE_INDICES], camera_matrix(w, h))
        if head is not None:
            out["head"] = head.to_dict()
            if eyes is not None:
                out["eyes"] = {"yaw": _r(eyes[0]), "pitch": _r(eyes[1])}
                yaw, pitch = _direction(head.yaw + eyes[0], head.pitch + eyes[1])
                out["direction"] = {"yaw": _r(yaw), "pitch": _r(pitch)}
        return state.eyes_closed, state.blink

    # -- sets ----------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Gaze over the current set (``summary.GazeSetSummary.to_dict()``) plus the target in use."""
        return {**self.set_summary.to_dict(), "target_yaw": _r(self.target[0]),
                "target_pitch": _r(self.target[1]), "cone_deg": _r(self.settings.cone_deg),
                "calibrated": self.calibrated}

    def start_new_set(self) -> None:
        """Start the next set's gaze summary; attention, blinks and the target carry on."""
        self.set_summary.reset()

    def close(self) -> None:
        """Release the face mesh graph (if this analyzer created or was given one)."""
        if self._estimator is not None and hasattr(self._estimator, "close"):
            self._estimator.close()

    def __enter__(self) -> GazeAnalyzer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
