"""What the dashboard reads of a result's ``gaze`` field (``GazeOut``, server/gaze_schemas.py).

Tolerant readers like the rest of ``models``: unknown fields are ignored, so a newer hub does not
break an older dashboard. Angles in degrees (yaw > 0 towards the image's right, pitch > 0 up).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _HubModel(BaseModel):
    # As models._HubModel; not imported from there because models imports this module.
    model_config = ConfigDict(extra="ignore", frozen=True)


class GazeAnglesView(_HubModel):
    yaw: float
    pitch: float


class HeadPoseView(GazeAnglesView):
    roll: float = 0.0


class GazeTargetView(_HubModel):
    yaw: float = 0.0
    pitch: float = 0.0
    cone_deg: float = Field(15.0, description="On-target cone half-angle, degrees.")
    calibrated: bool = False


class GazeCalibrationView(_HubModel):
    state: str = Field("idle", description="idle, running, done or failed.")
    progress: float = 0.0
    request_id: str | None = None
    message: str | None = None


class GazeView(_HubModel):
    """One frame's gaze; ``attention`` is the on-target share of the last 10 s in %."""

    face_found: bool = False
    skipped: str | None = None
    face_box: tuple[float, float, float, float] | None = None
    nose: tuple[float, float] | None = None
    head: HeadPoseView | None = None
    eyes: GazeAnglesView | None = None
    direction: GazeAnglesView | None = None
    ear: float | None = None
    eyes_closed: bool = False
    blink: bool = False
    blinks: int = 0
    on_target: bool = False
    attention: float | None = None
    target: GazeTargetView = GazeTargetView()
    calibration: GazeCalibrationView = GazeCalibrationView()
