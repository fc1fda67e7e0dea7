"""Pure helpers of the Coach page: the skeleton's topology and drawing (the browser camera's preview;
the live view draws it in the browser), trend table, set history rows, fault lines.

Kept free of Streamlit calls so they are tested without a page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import NamedTuple

import cv2
import numpy as np
import pandas as pd

from formsync.wire.analysis import AnalysisOut, Fault
from formsync.wire.references import ReferenceJob, ReferenceMeta
from formsync.wire.sets import SetFault, SetOut

# MediaPipe Pose's 33-landmark topology (mp.solutions.pose.POSE_CONNECTIONS), body only: the
# face points add clutter and nothing the coaching uses.
BODY_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (27, 29), (29, 31), (27, 31), (24, 26), (26, 28), (28, 30), (30, 32), (28, 32),
)
LEFT = {11, 13, 15, 23, 25, 27, 29, 31}
MIN_VISIBILITY = 0.5
"""Landmarks MediaPipe rates less visible than this are not drawn (its own drawing utility's default)."""

SEVERITY_ICON = {"critical": ":material/error:", "warning": ":material/warning:", "info": ":material/info:"}


def draw_pose(image_bgr: np.ndarray, landmarks: Sequence[Sequence[float]] | None,
              min_visibility: float = MIN_VISIBILITY) -> None:
    """Draw the body skeleton in place (left side blue, right side orange). landmarks: 33 x
    [x, y, z, visibility], x and y normalised to the image (0-1); None draws nothing."""
    if landmarks is None or len(landmarks) < 33:
        return
    h, w = image_bgr.shape[:2]
    pts = [(int(round(p[0] * w)), int(round(p[1] * h)), p[3] if len(p) > 3 else 1.0) for p in landmarks]
    thick = max(2, w // 200)
    for a, b in BODY_CONNECTIONS:
        if pts[a][2] >= min_visibility and pts[b][2] >= min_visibility:
            colour = (247, 195, 79) if a in LEFT and b in LEFT else (77, 183, 255) if not ({a, b} & LEFT) \
                else (224, 224, 224)
            cv2.line(image_bgr, pts[a][:2], pts[b][:2], colour, thick, cv2.LINE_AA)
    for i in sorted({i for c in BODY_CONNECTIONS for i in c}):
        if pts[i][2] >= min_visibility:
            cv2.circle(image_bgr, pts[i][:2], thick + 1, (255, 255, 255), -1, cv2.LINE_AA)


def joint_mean(angles: Mapping[str, float], joint: str) -> float | None:
    """Mean of ``<joint>_left`` and ``<joint>_right`` (degrees), or the one present, or None."""
    values = [angles[k] for k in (f"{joint}_left", f"{joint}_right") if angles.get(k) is not None]
    return sum(values) / len(values) if values else None


def trend_frame(trend: Sequence[AnalysisOut], reference_angles: Mapping[int, Mapping[str, float]]) -> pd.DataFrame:
    """Score and knee/hip angles over time next to the reference's at the matched phase.

    Columns: ``t`` (s, relative to the newest result, <= 0), ``score`` (0-100), ``knee``, ``hip``,
    ``ref knee``, ``ref hip`` (degrees). reference_angles: reference seq -> its angles by name.
    Results without a pose are left out.
    """
    rows = []
    last = trend[-1].capture_time_ns if trend else 0
    for r in trend:
        if not r.pose_found:
            continue
        ref = reference_angles.get(r.reference_seq, {}) if r.reference_seq is not None else {}
        rows.append({"t": (r.capture_time_ns - last) / 1e9, "score": r.score,
                     "knee": joint_mean(r.angles, "knee"), "hip": joint_mean(r.angles, "hip"),
                     "ref knee": joint_mean(ref, "knee"), "ref hip": joint_mean(ref, "hip")})
    return pd.DataFrame(rows, columns=["t", "score", "knee", "hip", "ref knee", "ref hip"])


PHASE_WORDS = {"descent": "on the way down", "bottom": "at the bottom", "ascent": "on the way up"}


def fault_moments(f: Fault, rep_start_ns: int | None = None) -> str:
    """Where in the rep a fault showed: ``on the way down (0.4-0.9 s) and on the way up (1.6-2.0 s)``,
    times from the rep's start when it is known; "" without moments."""
    parts = []
    for m in f.moments:
        span = "" if rep_start_ns is None else \
            f" ({(m.start_time_ns - rep_start_ns) / 1e9:.1f}-{(m.end_time_ns - rep_start_ns) / 1e9:.1f} s)"
        parts.append(PHASE_WORDS.get(m.phase, m.phase) + span)
    return " and ".join(parts)


def fault_line(f: Fault, camera_id: str | None = None, rep_start_ns: int | None = None) -> str:
    """One Markdown line: icon, fault, where it was seen (camera, view, low confidence, moments in
    the rep), and its cue."""
    where = ", ".join(x for x in (camera_id, f"{f.view} view" if f.view else None,
                                  "low confidence" if f.confidence == "low" else None,
                                  fault_moments(f, rep_start_ns) or None) if x)
    rep = f" rep {f.rep}" if getattr(f, "rep", 0) else ""  # a set's faults name their rep
    return f"{SEVERITY_ICON.get(f.severity, '')} **{f.code.replace('_', ' ')}**{rep}" + \
        (f" ({where})" if where else "") + f": {f.cue}"


def active_faults(live: SetOut | None) -> Sequence[SetFault]:
    """Faults of the last completed rep of the set in progress (none once the set closed)."""
    if live is None or live.status != "open" or not live.reps_detail:
        return ()
    return live.reps_detail[-1].faults


def history_rows(sets: Sequence[SetOut], tz: tzinfo | None = None) -> list[dict]:
    """Rows of the history table: date, camera, reps, mean and per-rep scores, faults."""
    rows = []
    for s in sets:
        counts: dict[str, int] = {}
        for f in s.faults:
            counts[f.code] = counts.get(f.code, 0) + 1
        rows.append({
            "date": datetime.fromtimestamp(s.ended_at_ns / 1e9, tz).strftime("%Y-%m-%d %H:%M:%S"),
            "camera": s.camera_id, "view": s.view, "reps": s.reps, "mean score": s.mean_score,
            "rep scores": ", ".join("–" if r.score is None else f"{r.score:.0f}" for r in s.reps_detail),
            "faults": ", ".join(f"{k.replace('_', ' ')} ×{n}" for k, n in counts.items()) or "none",
            "ended by": (s.end_reason or "").replace("_", " "),
        })
    return rows


def reference_label(ref: ReferenceMeta) -> str:
    """``deep · side view · 2 reps · from deep.mp4``: one entry of the reference chooser."""
    source = ref.source.replace("\\", "/").rsplit("/", 1)[-1]
    reps = f"{len(ref.reps)} rep{'s' if len(ref.reps) != 1 else ''}"
    return f"{ref.name} · {ref.view or 'unknown'} view · {reps} · from {source}"


class JobStatus(NamedTuple):
    """How a build job shows: a progress bar (``fraction`` 0-1 and its ``text``) and, once it has
    ended, its ``outcome`` (``done`` / ``failed``) with a ``detail`` line."""

    fraction: float
    text: str
    outcome: str | None = None
    detail: str = ""


def job_status(job: ReferenceJob | None) -> JobStatus:
    """The Coach page's view of a build job (None: the hub has not announced it yet)."""
    if job is None:
        return JobStatus(0.0, "Sent to the hub…")
    if job.state == "queued":
        again = " again (its worker stopped answering)" if job.attempts else ""
        return JobStatus(0.0, f"Queued{again}: waiting for a worker to build {job.name!r}")
    total = job.frames_total or 0
    fraction = min(1.0, job.frames_done / total) if total else 0.0
    if job.state == "running":
        count = f"frame {job.frames_done} of {total}" if total else "reading the video"
        return JobStatus(fraction, f"{job.worker_id} builds {job.name!r}: pose on {count}")
    if job.state == "done":
        return JobStatus(1.0, f"Built {job.name!r} from {job.frames_done} frames", "done",
                         f"Reference {job.name!r} is on the hub: choose it above to score against it.")
    message = job.error.message if job.error is not None else "unknown error"
    return JobStatus(fraction, f"Stopped after {job.frames_done} frames", "failed", f"No reference built: {message}")

