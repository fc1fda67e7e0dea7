"""Per-camera analysis session: one frame in, one ``AnalysisResult`` out.

``PoseAnalyzer`` is what the live analysis worker and the offline CLI both drive::

    analyzer = PoseAnalyzer("cam-side", reference=ReferenceLibrary().reference_set())  # or the hub's
    result = analyzer.process(frame_bgr, capture_time_ns, seq)   # pose + everything below
    result.to_dict()                                             # JSON-ready

``process`` = pose inference (``pose.PoseEstimator``) + ``update``; ``update`` takes an already
estimated pose, so tests and replays can skip inference and still run the same analysis.
Not thread-safe: one analyzer per camera, driven by that camera's worker thread.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.angles import ANGLE_NAMES
from analysis.faults import CHECKS, Fault, RepWindow, check_rep
from analysis.features import FrameFeatures
from analysis.landmarks import LM
from analysis.pose import PoseEstimator, PoseFrame
from analysis.reps import Phase, Rep, RepCounter
from analysis.scoring import RepScore, RepSequence, criterion, frame_similarity
from analysis.view import ViewTracker, classify_ratio

if TYPE_CHECKING:
    from analysis.reference import Reference, ReferenceSet

DEFAULT_MAX_WIDTH = 640
"""Frames are analysed at most 640 px wide: the width the camera clients upload, so the offline
path sees the same pixels as the live one (rep counts on the labelled clips are identical at
native size; see bench/analysis_offline.py for the speed)."""

DEFAULT_HISTORY = 1800
"""Frames kept for rep scoring (60 s at 30 fps): longer than any single rep."""


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


@dataclass(frozen=True)
class RepReport:
    """A completed rep: segmentation (seq numbers and capture times), depth, score and faults.

    criteria: {check name: 0..1} the form terms of the score (``scoring.rep_score``), present
    without a reference too; score: None without a reference."""

    rep: Rep
    start_time_ns: int
    end_time_ns: int
    score: RepScore | None
    faults: list[Fault]
    view: str | None
    criteria: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "rep": self.rep.index,
            "start_time_ns": self.start_time_ns,
            "end_time_ns": self.end_time_ns,
            "start_seq": self.rep.start,
            "bottom_seq": self.rep.bottom,
            "end_seq": self.rep.end,
            "duration_s": round((self.end_time_ns - self.start_time_ns) / 1e9, 3),
            "min_knee_deg": _r(self.rep.min_knee, 1),
            "min_hip_height": _r(self.rep.min_hip_height, 3),
            "score": None if self.score is None else _r(self.score.score, 1),
            "reference": None if self.score is None else self.score.reference,
            "reference_hash": None if self.score is None else self.score.reference_hash,
            "criteria": {k: _r(v, 3) for k, v in self.criteria.items()},
            "deviation": None if self.score is None else self.score.to_dict(),
            "faults": [f.to_dict() for f in self.faults],
            "view": self.view,
        }


@dataclass(frozen=True)
class AnalysisResult:
    """Analysis of one frame.

    landmarks / world_landmarks: float32 (33, 4) (x, y normalised to the image / metres; z; visibility)
    or None when no person was found. angles: {name: degrees} (``angles.ANGLE_NAMES``). score: 0..100
    similarity of this frame to the phase-matched reference frame (None without reference or pose);
    reference_seq: that reference frame's seq (the frame a coach shows beside the user);
    reference: the name of that reference (a camera is scored against the reference of its view);
    reference_hash: its content hash (SHA-256 of its per-frame data), so a result tells which
    version of a reference rebuilt under the same name it was scored against.
    rep_count / rep_phase: the rep state machine. rep: the rep completed on this frame, if any,
    with its faults. processing_ms: wall time of this call (pose + analysis).
    """

    camera_id: str
    seq: int
    capture_time_ns: int
    processing_ms: float
    landmarks: np.ndarray | None
    world_landmarks: np.ndarray | None
    image_size: tuple[int, int] | None
    angles: dict[str, float] | None
    view: str | None
    score: float | None
    rep_count: int
    rep_phase: str
    hip_height: float | None = None
    rep: RepReport | None = None
    faults: list[Fault] = field(default_factory=list)
    reference_seq: int | None = None
    reference: str | None = None
    reference_hash: str | None = None

    @property
    def pose_found(self) -> bool:
        return self.landmarks is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (lists and plain floats; landmarks rounded to 5 decimals)."""
        lm = lambda a: None if a is None else np.round(a.astype(float), 5).tolist()
        return {
            "camera_id": self.camera_id,
            "seq": self.seq,
            "capture_time_ns": self.capture_time_ns,
            "processing_ms": round(self.processing_ms, 2),
            "pose_found": self.pose_found,
            "image_size": None if self.image_size is None else list(self.image_size),
            "landmarks": lm(self.landmarks),
            "world_landmarks": lm(self.world_landmarks),
            "angles": None if self.angles is None else {k: _r(v, 1) for k, v in self.angles.items()},
            "view": self.view,
            "score": _r(self.score, 1),
            "hip_height": _r(self.hip_height, 3),
            "rep_count": self.rep_count,
            "rep_phase": self.rep_phase,
            "rep": None if self.rep is None else self.rep.to_dict(),
            "faults": [f.to_dict() for f in self.faults],
            "reference_seq": self.reference_seq,
            "reference": self.reference,
            "reference_hash": self.reference_hash,
        }


class PoseAnalyzer:
    """Stateful analysis of one camera's frames (see module doc).

    Args:
        camera_id: used in results and logs.
        reference: the answer sheet to score against: a ``reference.Reference``, or a
            ``reference.ReferenceSet`` to score each view against the reference of that view;
            None = no scores (reps, faults and form criteria still).
        estimator: anything with ``estimate(frame_bgr) -> PoseFrame | None``; default a new
            ``PoseEstimator(max_width)`` (one MediaPipe graph per analyzer, never shared).
        history_frames: frames kept for rep scoring; None keeps all (offline, reference building).
    """

    def __init__(self, camera_id: str = "cam", reference: Reference | ReferenceSet | None = None,
                 estimator=None, max_width: int | None = DEFAULT_MAX_WIDTH,
                 history_frames: int | None = DEFAULT_HISTORY) -> None:
        self.camera_id = camera_id
        self.references: ReferenceSet | None = None
        self.use_reference(reference)
        self._estimator = estimator
        self._max_width = max_width
        self.counter = RepCounter()
        self.views = ViewTracker()
        self.history: deque[FrameFeatures] = deque(maxlen=history_frames)
        self.reports: list[RepReport] = []
        self._shoulders_above_frame = False

    @property
    def estimator(self):
        if self._estimator is None:
            self._estimator = PoseEstimator(max_width=self._max_width)
        return self._estimator

    def process(self, frame_bgr: np.ndarray, capture_time_ns: int, seq: int | None = None) -> AnalysisResult:
        """Pose + analysis of one BGR frame (H, W, 3) uint8. ``seq`` defaults to a running count.

        Raises ValueError for a frame of the wrong shape.
        """
        t0 = time.perf_counter()
        pose = self.estimator.estimate(frame_bgr)
        return self.update(pose, self._next_seq(seq), capture_time_ns, t0=t0)

    def analyze(self, image_bgr: np.ndarray, *, seq: int, capture_time_ns: int) -> dict[str, Any]:
        """``process(...).to_dict()``: the ``FrameAnalyzer`` protocol of ``analysis.worker``."""
        return self.process(image_bgr, capture_time_ns, seq).to_dict()

    def _next_seq(self, seq: int | None) -> int:
        if seq is not None:
            return seq
        return self.history[-1].index + 1 if self.history else 0

    def update(self, pose: PoseFrame | None, seq: int, capture_time_ns: int, t0: float | None = None) -> AnalysisResult:
        """Analysis of an already estimated pose (None = no person in the frame)."""
        t0 = time.perf_counter() if t0 is None else t0
        if pose is None:
            done = self.counter.lost(rose_out_of_view=self._shoulders_above_frame)
            report = self._finish_rep(done, self.views.view) if done is not None else None
            return AnalysisResult(self.camera_id, seq, capture_time_ns, (time.perf_counter() - t0) * 1e3,
                                  None, None, None, None, self.views.view, None, self.counter.count,
                                  self.counter.phase.value, rep=report,
                                  faults=[] if report is None else report.faults)
        ff = FrameFeatures.from_pose(pose, seq, capture_time_ns)
        self.history.append(ff)
        self._shoulders_above_frame = bool(pose.landmarks[[LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER], 1].mean() < 0)
        view = self.views.update(ff.image_xy)
        done = self.counter.update(seq, ff.hip_height, ff.knee, capture_time_ns, ff.legs_visible)
        report = self._finish_rep(done, view) if done is not None else None
        score, ref_seq, reference = self._frame_score(ff, view)
        return AnalysisResult(
            self.camera_id, seq, capture_time_ns, (time.perf_counter() - t0) * 1e3,
            pose.landmarks, pose.world_landmarks, pose.image_size,
            dict(zip(ANGLE_NAMES, ff.angles.tolist())), view, score, self.counter.count,
            self.counter.phase.value, ff.hip_height, report, [] if report is None else report.faults, ref_seq,
            None if reference is None else reference.name, None if reference is None else reference.content_hash,
        )

    @property
    def reference(self) -> Reference | None:
        """The chosen reference (None without one)."""
        return None if self.references is None else self.references.chosen

    def _reference_for(self, view: str | None) -> Reference | None:
        if self.references is None:
            return None
        ref = self.references.for_view(view)
        return ref if ref.reps else None

    def _frame_score(self, ff: FrameFeatures, view: str | None
                     ) -> tuple[float | None, int | None, Reference | None]:
        reference = self._reference_for(view)
        if reference is None:
            return None, None, None
        ref = reference.phase_match(ff.hip_height, self.counter.phase)
        s = frame_similarity(ff.norm, ref.norm, ff.visibility, ref.visibility, ff.features, ref.features)
        return (s if np.isfinite(s) else None), ref.index, reference

    def rep_frames(self, rep: Rep) -> RepWindow:
        """The kept frames of ``rep`` (start..end) and its bottom within them: the newest run of
        frames numbered so, since a restarted camera numbers its frames from 0 again while frames of
        the same numbers from before it may still be kept."""
        frames: list[FrameFeatures] = []
        for f in reversed(self.history):
            if rep.start <= f.index <= rep.end:
                frames.append(f)
            elif frames:
                break
        frames.reverse()
        bottom = int(np.argmin([abs(f.index - rep.bottom) for f in frames]))
        return RepWindow(frames, bottom)

    def _finish_rep(self, rep: Rep, view: str | None) -> RepReport:
        window = self.rep_frames(rep)
        series = window.series()
        view = classify_ratio(series.facing) if np.isfinite(series.facing) else view
        reference = self._reference_for(view)
        ref_series = None if reference is None else reference.series()
        faults = check_rep(series, view, rep.index, reference=ref_series)
        criteria = {c.name: criterion(c.measure(series), *c.thresholds(view), c.higher_is_worse)
                    for c in CHECKS if c.applies_to(view, series)}
        criteria = {k: v for k, v in criteria.items() if np.isfinite(v)}
        score = None if reference is None else reference.score(window).with_form(criteria)
        report = RepReport(rep, window.frames[0].capture_time_ns, window.frames[-1].capture_time_ns,
                           score, faults, view, criteria)
        self.reports.append(report)
        return report

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary of the session so far: ``{"reps": N, "reps_detail": [...],
        "faults": [...], "mean_score": float|None, "view": str|None, "in_rep": bool, "aborted_reps": int,
        "reference": str|None, "reference_hash": str|None}`` (reference: the chosen one and its content
        hash; each rep names the one it was scored against)."""
        scores = [r.score.score for r in self.reports if r.score is not None]
        return {
            "reps": self.counter.count,
            "reps_detail": [r.to_dict() for r in self.reports],
            "faults": [f.to_dict() for r in self.reports for f in r.faults],
            "mean_score": _r(float(np.mean(scores)), 1) if scores else None,
            "view": self.views.view,
            "in_rep": self.counter.in_rep,
            "aborted_reps": self.counter.aborted,
            "reference": None if self.reference is None else self.reference.name,
            "reference_hash": None if self.reference is None else self.reference.content_hash,
        }

    def start_new_set(self, reset_motion: bool = False) -> None:
        """Close the books on the current set: reps, rep reports and frame scores start empty; pose
        smoothing, view and the rep state machine's phase carry on, unless ``reset_motion`` (the
        footage jumped, e.g. a replayed clip started over: a jump from standing into the clip's
        first pose is no descent)."""
        if reset_motion:
            self.counter = RepCounter()
        self.counter.new_set()
        self.reports = []

    def use_reference(self, reference: Reference | ReferenceSet | None) -> None:
        """Score against another answer sheet from the next frame on (reps already scored keep theirs)."""
        from analysis.reference import ReferenceSet

        self.references = None if reference is None else ReferenceSet.of(reference)

    def warm_up(self) -> None:
        """Load the pose model and run it once on a blank frame (MediaPipe initialises its
        inference on the first frame), so the camera's first real frame does not pay for it. No
        person is found in it, so the tracker starts afresh either way."""
        self.estimator.estimate(np.zeros((256, 256, 3), np.uint8))

    def close(self) -> None:
        """Release the pose graph (only if this analyzer created or was given one)."""
        if self._estimator is not None and hasattr(self._estimator, "close"):
            self._estimator.close()

    def __enter__(self) -> PoseAnalyzer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def sequence_of(window: RepWindow) -> RepSequence:
    """Stack a rep's frames into the arrays ``scoring.score_rep`` works on."""
    fr = window.frames
    return RepSequence(
        norm=np.stack([f.norm for f in fr]),
        vis=np.stack([f.visibility for f in fr]),
        features=np.stack([f.features for f in fr]),
        hip_height=np.array([f.hip_height for f in fr]),
        bottom=window.bottom,
    )


__all__ = ["AnalysisResult", "PoseAnalyzer", "RepReport", "sequence_of", "Phase"]
