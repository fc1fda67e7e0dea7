"""Wire models of gaze and attention (issue 7): the ``gaze`` field of an analysis result, the gaze
part of a set summary, and the calibration request. Field meanings and sources of the formulas:
``analysis/gaze/analyzer.py``.

Angles are degrees as the camera sees the face: yaw > 0 towards the image's right, pitch > 0 up,
roll > 0 counter-clockwise in the image.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    # The same config as schemas._Wire; not imported from there because schemas imports this module.
    model_config = ConfigDict(extra="forbid")


_Yaw = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
_Pitch = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
_Unit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
_Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


class GazeAngles(_Wire):
    yaw: _Yaw = Field(description="Degrees, > 0 towards the image's right.")
    pitch: _Pitch = Field(description="Degrees, > 0 up.")


class HeadPoseOut(GazeAngles):
    """Head pose from the face landmarks (solvePnP against MediaPipe's canonical face)."""

    roll: _Yaw = Field(description="Degrees, > 0 counter-clockwise in the image.")


class GazeTarget(_Wire):
    yaw: _Yaw = Field(description="Target direction yaw, degrees (0: into the camera).")
    pitch: _Pitch = Field(description="Target direction pitch, degrees.")
    cone_deg: float = Field(gt=0, le=90, allow_inf_nan=False,
                            description="On-target cone half-angle, degrees.")
    calibrated: bool = Field(description="True once a calibration set the target for this camera.")


class GazeCalibrationState(_Wire):
    state: Literal["idle", "running", "done", "failed"]
    progress: _Unit = Field(description="Share of the calibration time elapsed, 0-1.")
    request_id: str | None = Field(None, max_length=64, description="Id of the calibration request, if any.")
    message: str | None = Field(None, max_length=200, description="What to do, or why it failed.")


class GazeOut(_Wire):
    """One frame's gaze. Everything but the flags, target and calibration is None without a face."""

    face_found: bool
    skipped: Literal["no_person", "no_face", "face_too_small"] | None = Field(
        None, description="Why the face mesh did not run on this frame (cheap skip), if it did not.")
    face_box: list[_Unit] | None = Field(None, min_length=4, max_length=4,
                                         description="[x0, y0, x1, y1] of the face, normalised to the frame.")
    nose: list[_Unit] | None = Field(None, min_length=2, max_length=2,
                                     description="[x, y] nose tip, normalised: where a gaze arrow starts.")
    head: HeadPoseOut | None = None
    eyes: GazeAngles | None = Field(None, description="Eye-in-head direction from the irises.")
    direction: GazeAngles | None = Field(None, description="Combined gaze: head + eyes.")
    ear: float | None = Field(None, ge=0, le=2, allow_inf_nan=False,
                              description="Mean eye aspect ratio (Soukupova & Cech 2016); ~0.3 open, "
                                          "< 0.2 closed.")
    eyes_closed: bool = False
    blink: bool = Field(False, description="True on the frame a blink ended.")
    blinks: int = Field(0, ge=0, le=10_000_000, description="Blinks counted for this camera so far.")
    on_target: bool = Field(description="Gaze within the target cone (False without a face).")
    attention: _Percent | None = Field(None, description="On-target share of the last 10 s, %.")
    target: GazeTarget
    calibration: GazeCalibrationState
    processing_ms: float = Field(0.0, ge=0, le=600_000, allow_inf_nan=False, description="Gaze time, ms.")


class GazeSetOut(_Wire):
    """Gaze over one set (analysis/gaze/summary.py): time-weighted shares, blinks, mean direction."""

    frames: int = Field(ge=0, le=10_000_000)
    face_frames: int = Field(ge=0, le=10_000_000)
    seconds: float | None = Field(None, ge=0, le=86_400, allow_inf_nan=False)
    face_pct: _Percent | None = Field(None, description="Share of the set's time with a face found, %.")
    attention_pct: _Percent | None = Field(None, description="Share of the set's time on target, %.")
    blinks: int = Field(ge=0, le=10_000_000)
    blinks_per_min: float | None = Field(None, ge=0, le=10_000, allow_inf_nan=False)
    mean_yaw: _Yaw | None = None
    mean_pitch: _Pitch | None = None
    head_pitch_mean: _Pitch | None = Field(None, description="Mean head pitch, degrees (< 0: looking down).")
    head_pitch_min: _Pitch | None = None
    head_pitch_max: _Pitch | None = None
    target_yaw: _Yaw
    target_pitch: _Pitch
    cone_deg: float = Field(gt=0, le=90, allow_inf_nan=False)
    calibrated: bool


class GazeCalibrateIn(_Wire):
    duration_s: float = Field(2.0, ge=0.5, le=10, allow_inf_nan=False,
                              description="How long the person looks at the screen's centre, seconds.")


class GazeCalibrateOut(_Wire):
    camera_id: str
    action: Literal["start", "reset"]
    request_id: str = Field(description="Echoed in the results' `gaze.calibration.request_id`.")
    duration_s: float | None = None
    requested_at_ns: int = Field(ge=0)
    workers: int = Field(ge=0, description="Event subscribers that asked for gaze calibration requests.")
