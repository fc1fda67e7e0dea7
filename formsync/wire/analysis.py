"""One frame's analysis result, as a worker posts it and a reader gets it back: pose landmarks,
joint angles, the rep state, faults and score (docs/api.md, *Reading*; the analysis itself:
``analysis/session.py``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from formsync.ids import CameraIdField
from formsync.wire.base import I64_MAX, Count, Measure, Ms, Score, Seq, SignedMs, TimeNs, Wire
from formsync.wire.gaze import GazeOut
from formsync.wire.references import ContentHash

View = Literal["front", "side", "oblique", "unknown"]
"""How the camera sees the athlete (``analysis/view.py``; a rear view reads as front)."""

RepPhase = Literal["unknown", "armed", "top", "down", "bottom", "up"]
"""The rep state machine's states (``analysis.reps.Phase``): ``unknown`` before a valid pose,
``armed`` first seen part-way down, ``top`` standing, ``down`` descending, ``bottom`` at depth,
``up`` rising (the rep counts on the return to ``top``)."""

POSE_LANDMARKS = 33
"""MediaPipe Pose's landmark count."""

# One landmark: [x, y, z, visibility]. Image landmarks: x, y normalised to [0, 1] by width and
# height (slightly outside for joints out of frame), z in the scale of x relative to the hips;
# world landmarks: metres, hip-centred. Visibility in [0, 1]. (MediaPipe Pose docs.)
Landmark = Annotated[list[Annotated[float, Field(ge=-1e3, le=1e3, allow_inf_nan=False)]],
                     Field(min_length=4, max_length=4)]
Severity = Literal["info", "warning", "critical"]
"""The console's alert levels; ``analysis.faults`` grades minor -> warning, major -> critical."""


class FaultMoment(Wire):
    """Where in a rep a fault showed: a run of frames beyond the check's threshold."""

    start_time_ns: TimeNs = Field(description="Capture time of the run's first frame, ns.")
    end_time_ns: TimeNs = Field(description="Capture time of the run's last frame, ns.")
    peak_seq: Seq = Field(description="Seq of the worst frame of the run.")
    phase: Literal["descent", "bottom", "ascent"] = Field(description="Where the worst frame lies in the rep.")


class Fault(Wire):
    """A form fault found on the last completed rep (``analysis/faults.py``)."""

    code: str = Field(pattern=r"^[a-z0-9_]{1,48}$", description="Machine name, e.g. `knees_caving`.")
    severity: Severity = Field(description="`warning` (past the minor threshold) or `critical` (past the major).")
    cue: str = Field(max_length=200, description="One-line coaching cue.")
    view: str | None = Field(None, max_length=16, description="Camera view the check judged from.")
    value: Measure | None = Field(None, description="Measured value, in the check's unit.")
    confidence: Literal["high", "low"] | None = Field(
        None, description="low: in this view the measure rests on MediaPipe's depth estimate.")
    moments: list[FaultMoment] = Field(default_factory=list, max_length=16,
                                       description="Where in the rep it happened.")


class RepState(Wire):
    count: int = Field(ge=0, le=100_000, description="Reps completed so far in the camera's set.")
    phase: RepPhase = Field(description="State of the rep counter (``RepPhase``).")
    rep_scores: list[Score] = Field(default_factory=list, max_length=1000,
                                    description="Score of each completed rep of the set, 0-100, oldest first.")


class AnalysisIn(Wire):
    """One frame's analysis result, posted by an analysis worker."""

    seq: Seq = Field(description="Seq of the analysed frame.")
    capture_time_ns: TimeNs = Field(description="Capture time of the analysed frame, ns.")
    source_frame: int | None = Field(None, ge=0, le=I64_MAX, description="Its frame index in the source video.")
    processing_ms: Ms = Field(description="Worker time spent on this frame, ms.")
    pose_found: bool = Field(description="MediaPipe found a person in the frame.")
    landmarks: list[Landmark] | None = Field(None, min_length=POSE_LANDMARKS, max_length=POSE_LANDMARKS,
                                             description="33 image landmarks [x, y, z, visibility]; "
                                                         "null without a pose.")
    world_landmarks: list[Landmark] | None = Field(None, min_length=POSE_LANDMARKS, max_length=POSE_LANDMARKS,
                                                   description="33 world landmarks, metres, hip-centred.")
    angles: dict[Annotated[str, Field(max_length=32)], Annotated[float, Field(ge=-360, le=360)]] = Field(
        default_factory=dict, max_length=64, description="Joint angles in degrees, by name (e.g. `knee_left`).")
    view: View = Field("unknown", description="How the camera sees the athlete.")
    score: Score | None = Field(None, description="Similarity to the reference at the same phase, 0-100.")
    reference_seq: int | None = Field(
        None, ge=0, le=10_000_000, description="Seq of the reference frame matched to this frame's phase.")
    reference: str | None = Field(None, max_length=64, description="Reference this frame was scored against "
                                                                     "(the hub's reference of the camera's view).")
    reference_hash: ContentHash | None = Field(None, description="That reference's content hash: which version "
                                                                 "of it (a reference rebuilt under its name has a "
                                                                 "new one).")
    rep: RepState = Field(description="The camera's rep counter after this frame.")
    faults: list[Fault] = Field(default_factory=list, max_length=32, description="Faults of the last completed rep.")
    gaze: GazeOut | None = Field(None, description="Head pose, gaze, blink, attention; null with gaze off.")
    skipped_frames: Count = Field(0, description="Frames this worker skipped for this camera so far.")
    worker_id: str = Field("worker", pattern=r"^[A-Za-z0-9_.:-]{1,64}$", description="The posting worker's name.")


class AnalysisOut(AnalysisIn):
    """A stored result as the hub answers it."""

    camera_id: CameraIdField
    hub_receive_time_ns: TimeNs = Field(description="When the hub received the result, ns.")
    latency_ms: SignedMs = Field(description="Hub receive time of the result minus the frame's capture time, ms.")
    age_ms: SignedMs = Field(0.0, description="Hub time now minus when the hub received this result, ms.")
    stale: bool = Field(False, description="No newer result for `analysis_stale_after_s` (default 2 s): "
                                           "the camera's worker stopped or fell behind.")
