"""Pose and gaze of one camera on the same frame: the analyser the live worker runs by default.

``CombinedAnalyzer.analyze`` runs ``PoseAnalyzer`` then ``GazeAnalyzer`` on the same frame and returns
the pose result dict with one more key, ``"gaze"`` (``analysis.gaze.analyzer`` documents its shape;
None when gaze is off). The pose result steers the face mesh: no person, no face mesh; otherwise only
a crop around the head the pose found (``analysis.gaze.face_mesh``).

Everything else (``reference``, ``use_reference``, ``counter``, ...) is the pose analyser's, so the
worker drives a ``CombinedAnalyzer`` exactly like a ``PoseAnalyzer``. Not thread-safe: one per camera.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analysis.gaze.analyzer import GazeAnalyzer
from analysis.session import PoseAnalyzer


class CombinedAnalyzer:
    """Args:
        pose: the camera's ``PoseAnalyzer``.
        gaze: the camera's ``GazeAnalyzer``, or None for pose only (``--no-gaze``).
        gaze_fps: most gaze analyses per second of capture time (0: every frame). Between two, a
            frame carries the last gaze result. Attention is a share over 10 s and head/eye
            direction barely moves in 1/15 s, so 15 Hz loses nothing the coach shows, and it
            halves what the face mesh adds to a 30 fps camera (+28 % per analysed frame single-
            threaded, +40-50 % with two cameras on two cores: bench/analysis.py). Blinks shorter
            than a gaze interval (~70 ms) can be missed.
    """

    def __init__(self, pose: PoseAnalyzer, gaze: GazeAnalyzer | None = None, gaze_fps: float = 15.0) -> None:
        self.pose = pose
        self.gaze = gaze
        self.gaze_period_ns = int(1e9 / gaze_fps) if gaze_fps > 0 else 0
        self._last_gaze: dict | None = None
        self._last_gaze_ns: int | None = None

    def analyze(self, image_bgr: np.ndarray, *, seq: int, capture_time_ns: int) -> dict[str, Any]:
        """``PoseAnalyzer.analyze(...)`` plus ``"gaze"``. Raises ValueError for a frame not (H, W, 3)."""
        result = self.pose.analyze(image_bgr, seq=seq, capture_time_ns=capture_time_ns)
        if self.gaze is None:
            result["gaze"] = None
            return result
        due = (self._last_gaze_ns is None or self.gaze.calibrator.running
               or capture_time_ns - self._last_gaze_ns >= self.gaze_period_ns
               or capture_time_ns < self._last_gaze_ns)  # a camera restart moves time back
        if not due:
            result["gaze"] = self._last_gaze
            return result
        found = bool(result.get("pose_found"))
        landmarks = result.get("landmarks")
        result["gaze"] = self._last_gaze = self.gaze.analyze(
            image_bgr, seq=seq, capture_time_ns=capture_time_ns, person_found=found,
            pose_landmarks=np.asarray(landmarks, np.float64) if found and landmarks is not None else None)
        self._last_gaze_ns = capture_time_ns
        return result

    def start_calibration(self, duration_s: float | None = None, request_id: str | None = None) -> bool:
        """Start a gaze calibration (``GazeAnalyzer.start_calibration``); False when gaze is off."""
        if self.gaze is None:
            return False
        self.gaze.start_calibration(duration_s, request_id)
        self._last_gaze_ns = None  # the next frame shows the calibration running
        return True

    def reset_target(self) -> bool:
        """Back to the default gaze target; False when gaze is off."""
        if self.gaze is None:
            return False
        self.gaze.reset_target()
        self._last_gaze_ns = None
        return True

    def summary(self) -> dict[str, Any]:
        """``PoseAnalyzer.summary()`` plus ``"gaze"``: the set's ``GazeAnalyzer.summary()`` (None: off)."""
        return {**self.pose.summary(), "gaze": None if self.gaze is None else self.gaze.summary()}

    def start_new_set(self, *args, **kwargs) -> None:
        """``PoseAnalyzer.start_new_set(...)`` (same arguments); the gaze set summary restarts too."""
        self.pose.start_new_set(*args, **kwargs)
        if self.gaze is not None:
            self.gaze.start_new_set()

    def warm_up(self) -> None:
        """The pose model's ``warm_up``; the face mesh's too (a blank frame: no face tracked)."""
        self.pose.warm_up()
        if self.gaze is not None:
            self.gaze.estimator.estimate(np.zeros((256, 256, 3), np.uint8))

    def close(self) -> None:
        try:
            self.pose.close()
        finally:
            if self.gaze is not None:
                self.gaze.close()

    def __enter__(self) -> CombinedAnalyzer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not defined here: the pose analyser's (reference, use_reference, ...).
        if name.startswith("_") or name in ("pose", "gaze"):
            raise AttributeError(name)
        return getattr(self.pose, name)
