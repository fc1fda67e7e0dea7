"""Blinks from the eye aspect ratio (EAR).

EAR = (|p2 - p6| + |p3 - p5|) / (2 |p1 - p4|) over six eye points (corners p1, p4; upper lid p2, p3;
lower lid p6, p5): T. Soukupova and J. Cech, "Real-Time Eye Blink Detection using Facial Landmarks",
CVWW 2016. It is roughly constant while the eye is open and falls towards 0 when it closes.

``BlinkDetector`` thresholds the mean EAR of both eyes with hysteresis and counts a blink when the
eyes reopen after being closed for at most 500 ms (at 30 fps a blink may close the eyes on a
single frame, so there is no lower bound; the hysteresis keeps landmark jitter from counting).
0.2 is the threshold commonly used with this measure; on Face Mesh points an open eye read
0.26-0.36 over the whole gaze clip (``python -m analysis gaze``). The 500 ms bound follows blink
physiology (a blink lasts 100-400 ms: Schiffman, Sensation and Perception, 2001, as cited by
BioNumbers); a longer closure is eyes kept shut, not a blink. With frames skipped by a slow worker,
short blinks can be missed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.gaze.face_model import EYES

DEFAULT_CLOSED_EAR = 0.2
REOPEN_MARGIN = 0.03
"""Hysteresis: the eyes count as open again only above threshold + this, so noise around the
threshold is not counted as several blinks."""
MAX_BLINK_S = 0.5


def eye_aspect_ratio(p1, p2, p3, p4, p5, p6) -> float:
    """EAR of one eye from its six points (x, y) in pixels; NaN when the corners coincide."""
    p = [np.asarray(q, np.float64)[:2] for q in (p1, p2, p3, p4, p5, p6)]
    width = float(np.linalg.norm(p[0] - p[3]))
    if width < 1e-9:
        return float("nan")
    return float((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2.0 * width))


def eye_aspect_ratios(landmarks_px: np.ndarray) -> dict[str, float]:
    """EAR of each eye ("right", "left") from Face Mesh landmarks (478, >=2) in pixels."""
    return {name: eye_aspect_ratio(*(landmarks_px[i] for i in eye["ear"])) for name, eye in EYES.items()}


@dataclass(frozen=True)
class BlinkState:
    """``eyes_closed`` now; ``blink`` True on the frame a blink ended; ``blinks`` counted so far."""

    eyes_closed: bool
    blink: bool
    blinks: int


class BlinkDetector:
    """Args:
        closed_ear: EAR below which the eyes are closed (default 0.2, module doc).
    Not thread-safe; one per camera.
    """

    def __init__(self, closed_ear: float = DEFAULT_CLOSED_EAR) -> None:
        self.closed_ear = closed_ear
        self.blinks = 0
        self._closed_since_ns: int | None = None

    def update(self, ear: float | None, capture_time_ns: int) -> BlinkState:
        """Feed one frame's mean EAR (None or NaN: no face, the state is kept)."""
        blink = False
        if ear is not None and np.isfinite(ear):
            if self._closed_since_ns is None and ear < self.closed_ear:
                self._closed_since_ns = capture_time_ns
            elif self._closed_since_ns is not None and ear > self.closed_ear + REOPEN_MARGIN:
                closed_s = (capture_time_ns - self._closed_since_ns) / 1e9
                blink = closed_s <= MAX_BLINK_S
                self.blinks += blink
                self._closed_since_ns = None
        return BlinkState(self._closed_since_ns is not None, blink, self.blinks)
