"""Gaze and attention: the ``gaze`` field of an analysis result, the gaze part of a set summary, and
the calibration request (docs/api.md, *Gaze*). Field meanings and the sources of the formulas:
``analysis/gaze/analyzer.py``.

Angles are degrees as the camera sees the face: yaw > 0 towards the image's right, pitch > 0 up,
roll > 0 counter-clockwise in the image.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from formsync.ids import CameraIdField
from formsync.wire.base import Count, Ms, Percent, TimeNs, Unit, Wire

Yaw = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Pitch = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
ConeDeg = Annotated[float, Field(gt=0, le=90, allow_inf_nan=False)]


class GazeAngles(Wire):
    yaw: Yaw = Field(description="Degrees, > 0 towards the image's right.")
    pitch: Pitch = Field(description="Degrees, > 0 up.")


class HeadPoseOut(GazeAngles):
    """Head pose from the face landmarks (solvePnP against MediaPipe's canonical face)."""

    roll: Yaw = Field(description="Degrees, > 0 counter-clockwise in the image.")


class GazeTarget(Wire):
    yaw: Yaw = Field(description="Target direction yaw, degrees (0: into the camera).")
    pitch: Pitch = Field(description="Target direction pitch, degrees.")
    cone_deg: ConeDeg = Field(description="On-target cone half-angle, degrees.")
    calibrated: bool = Field(description="True once a calibration set the target for this camera.")


class GazeCalibrationState(Wire):
    state: Literal["idle", "running", "done", "failed"] = Field(description="Where the camera's calibration is.")
    progress: Unit = Field(description="Share of the calibration time elapsed, 0-1.")
    request_id: str | None = Field(None, max_length=64, description="Id of the calibration request, if any.")
    message: str | None = Field(None, max_length=200, description="What to do, or why it failed.")


class GazeOut(Wire):
    """One frame's gaze. Everything but the flags, target and calibration is null without a face."""

    face_found: bool = Field(description="The face mesh found a face on this frame.")
    skipped: Literal["no_person", "no_face", "face_too_small"] | None = Field(
        None, description="Why the face mesh did not run on this frame (cheap skip), if it did not.")
    face_box: list[Unit] | None = Field(None, min_length=4, max_length=4,
                                        description="[x0, y0, x1, y1] of the face, normalised to the frame.")
    nose: list[Unit] | None = Field(None, min_length=2, max_length=2,
                                    description="[x, y] nose tip, normalised: where a gaze arrow starts.")
    head: HeadPoseOut | None = Field(None, description="Head pose.")
    eyes: GazeAngles | None = Field(None, description="Eye-in-head direction from the irises.")
    direction: GazeAngles | None = Field(None, description="Combined gaze: head + eyes.")
    ear: float | None = Field(None, ge=0, le=2, allow_inf_nan=False,
                              description="Mean eye aspect ratio (Soukupova & Cech 2016); ~0.3 open, "
                                          "< 0.2 closed.")
    eyes_closed: bool = Field(False, description="Both eyes read closed on this frame.")
    blink: bool = Field(False, description="True on the frame a blink ended.")
    blinks: int = Field(0, ge=0, le=10_000_000, description="Blinks counted for this camera so far.")
    on_target: bool = Field(description="Gaze within the target cone (false without a face).")
    attention: Percent | None = Field(None, description="On-target share of the last 10 s, %.")
    target: GazeTarget = Field(description="The direction that counts as on target.")
    calibration: GazeCalibrationState = Field(description="The camera's gaze calibration.")
    processing_ms: Ms = Field(0.0, description="Gaze time spent on this frame, ms.")


class GazeSetOut(Wire):
    """Gaze over one set (analysis/gaze/summary.py): time-weighted shares, blinks, mean direction."""

    frames: int = Field(ge=0, le=10_000_000, description="Frames with a gaze result.")
    face_frames: int = Field(ge=0, le=10_000_000, description="Of those, frames with a face.")
    seconds: float | None = Field(None, ge=0, le=86_400, allow_inf_nan=False,
                                  description="Capture time the set's gaze covers, s.")
    face_pct: Percent | None = Field(None, description="Share of the set's time with a face found, %.")
    attention_pct: Percent | None = Field(None, description="Share of the set's time on target, %.")
    blinks: int = Field(ge=0, le=10_000_000, description="Blinks during the set.")
    blinks_per_min: float | None = Field(None, ge=0, le=10_000, allow_inf_nan=False,
                                         description="Blink rate over the set's face time, 1/min.")
    mean_yaw: Yaw | None = Field(None, description="Mean gaze yaw, degrees.")
    mean_pitch: Pitch | None = Field(None, description="Mean gaze pitch, degrees.")
    head_pitch_mean: Pitch | None = Field(None, description="Mean head pitch, degrees (< 0: looking down).")
    head_pitch_min: Pitch | None = Field(None, description="Lowest head pitch, degrees.")
    head_pitch_max: Pitch | None = Field(None, description="Highest head pitch, degrees.")
    target_yaw: Yaw = Field(description="Target yaw in force, degrees.")
    target_pitch: Pitch = Field(description="Target pitch in force, degrees.")
    cone_deg: ConeDeg = Field(description="On-target cone half-angle, degrees.")
    calibrated: bool = Field(description="The target came from a calibration.")


class GazeCalibrateIn(Wire):
    duration_s: float = Field(2.0, ge=0.5, le=10, allow_inf_nan=False,
                              description="How long the person looks at the screen's centre, seconds.")


class GazeCalibrateOut(Wire):
    camera_id: CameraIdField
    action: Literal["start", "reset"] = Field(description="`start` a calibration or `reset` the target.")
    request_id: str = Field(max_length=64, description="Echoed in the results' `gaze.calibration.request_id`.")
    duration_s: float | None = Field(None, ge=0.5, le=10, description="Calibration time (start only), s.")
    requested_at_ns: TimeNs = Field(description="When the hub passed the request on, ns.")
    workers: Count = Field(description="Event subscribers that asked for gaze calibration requests "
                                       "(0: nobody will act on it).")
