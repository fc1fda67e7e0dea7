"""Rep segmentation: a state machine with hysteresis on knee angle, confirmed by the hip drop.

Signals (one sample per analysed frame), from MediaPipe world landmarks so they do not depend on
the camera's distance or, to first order, its direction:
    knee: mean of the left and right 3-D knee angles (hip-knee-ankle) in degrees, 180 = straight.
        The primary signal: it falls by 40-130 deg in every squat, from a quarter squat to a full
        one, whichever way the camera looks, and only needs the legs in view (a torso or head out
        of frame, or hidden by a rack or a barbell, does not matter).
    hip_height: vertical distance from the ankle midpoint up to the hip midpoint over leg length
        (``features.hip_height``): ~0.9-1.0 standing, ~0.2-0.85 at the bottom of a squat. It
        confirms a bottom, so that bending the knees without lowering the hips (a step, a walk
        across the room) is no rep.
A sample counts only when one leg (hip, knee and ankle) has MediaPipe visibility >= ``MIN_VISIBILITY``
and hip_height is plausible (``VALID_HIP_RANGE``); others keep the state, so a person walking out of
frame or a missed detection neither starts nor ends a rep. Both signals are median-filtered over the
samples of the last ``MEDIAN_WINDOW_S`` of capture time (causal): the same smoothing at 12 fps as at
30 fps and for a worker that skips frames. When the pose is lost past the bottom because the athlete
stood up out of the top of the frame (``lost(rose_out_of_view=True)``) and the newest raw sample is
already standing, the rep completes there: a camera that cuts off the head loses the pose as the
athlete stands up (MediaPipe's detector needs the face, its tracker lets go near the top), and the
filter's lag would otherwise keep the rep from ever reaching the top. A pose lost any other way
(walking out of frame, a missed detection) changes nothing.

States: UNKNOWN -> (ARMED) -> TOP -> DOWN -> BOTTOM -> UP -> TOP (rep counted on the return to TOP).
    TOP     knee >= TOP_KNEE (150 deg) and hip_height >= TOP_HIP (0.85).
    BOTTOM  knee <= BOTTOM_KNEE (135 deg) and hip_height at least HIP_DROP (0.06 leg lengths)
            below the highest standing hip height of the last ``STANDING_MEMORY_S``.
    The 15 deg gap between the two knee thresholds is the hysteresis: noise around one threshold
    cannot count a rep. A descent that returns to TOP without reaching BOTTOM is recorded as an
    aborted (partial) rep, not counted. A long hold at the bottom stays in BOTTOM.
Start point: counting starts at the first descent from standing, so a stream that begins mid-squat
and rises does not count that rise. A stream whose pose only becomes valid during a descent (legs
cut off in the first frames) is ARMED when first seen at hip_height >= ARM_HIP (0.70) and counts the
descent if the hips then drop by >= ARM_DROP (0.10 leg lengths).

How the thresholds were chosen: ``python -m analysis evaluate`` over the dev split of the labelled
clips (``analysis/evaluation/annotations.json``: 32 clips, 12-30 fps, front/side/oblique, bodyweight
and barbell, 0-15 reps, quarter to full squats). Every combination of TOP_KNEE 145-155,
BOTTOM_KNEE 130-140, HIP_DROP 0-0.06, MEDIAN_WINDOW_S 0.2-0.4 and TOP_HIP 0.80-0.85 was run; the
values above sit inside the region that counts every dev clip exactly. The window needs 0.3 s: at
0.2 s one 12 fps clip (posture_020) splits a rep in two. Shallowest counted bottom on dev: knee
139 deg (posture_006's quarter squats); standing: knee 155-178 deg, hip 0.88-1.0.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from enum import Enum

import numpy as np

TOP_KNEE = 150.0
TOP_HIP = 0.85
BOTTOM_KNEE = 135.0
HIP_DROP = 0.06
ARM_HIP = 0.70
ARM_DROP = 0.10
MEDIAN_WINDOW_S = 0.3
STANDING_MEMORY_S = 10.0
MIN_VISIBILITY = 0.5
"""MediaPipe's own presence threshold (its ``min_tracking_confidence`` default)."""
VALID_HIP_RANGE = (-0.1, 1.2)
"""hip_height outside this range means a broken detection (e.g. legs flipped above the hips)."""
DEFAULT_FPS = 30.0
"""Assumed frame rate when samples come without capture times (``update(..., capture_time_ns=None)``)."""


class Phase(str, Enum):
    UNKNOWN = "unknown"
    ARMED = "armed"
    TOP = "top"
    DOWN = "down"
    BOTTOM = "bottom"
    UP = "up"


@dataclass(frozen=True)
class Rep:
    """One counted rep; indices are the sample indices passed to ``RepCounter.update``.

    start: last sample at the top before the descent; bottom: deepest sample (smallest knee
    angle); end: first sample back at the top. min_knee in degrees, min_hip_height in leg lengths.
    """

    index: int
    start: int
    bottom: int
    end: int
    min_knee: float
    min_hip_height: float

    def to_dict(self) -> dict:
        return asdict(self)


class RepCounter:
    """Online rep counter; feed one sample per frame with ``update``.

    ``update`` returns the ``Rep`` completed by that sample, else None. Invalid samples (NaN, out of
    ``VALID_HIP_RANGE`` or legs not visible) are skipped and keep the state.
    """

    def __init__(self) -> None:
        self.phase = Phase.UNKNOWN
        self.reps: list[Rep] = []
        self.aborted: int = 0
        self._window: deque[tuple[float, int, float, float]] = deque()  # (time s, index, hip, knee)
        self._standing: deque[tuple[float, float]] = deque()  # (time s, hip) of TOP samples
        self._start = -1
        self._peak = -np.inf
        self._bottom = -1
        self._min_hip = np.inf
        self._min_knee = np.inf

    @property
    def count(self) -> int:
        return len(self.reps)

    def new_set(self) -> None:
        """Forget the counted reps (numbering restarts at 1) but keep the phase and filter state:
        the person is still wherever they were when the previous set closed."""
        self.reps = []
        self.aborted = 0

    @property
    def in_rep(self) -> bool:
        """True between the start of a counted descent and the return to the top."""
        return self.phase in (Phase.DOWN, Phase.BOTTOM, Phase.UP)

    def update(self, index: int, hip_height: float, knee: float, capture_time_ns: int | None = None,
               legs_visible: bool = True) -> Rep | None:
        """One sample: hip height in leg lengths, mean knee angle in degrees, its capture time
        (None: ``index / DEFAULT_FPS``) and whether one leg is visible (``legs_visible``)."""
        if not (legs_visible and np.isfinite(hip_height) and np.isfinite(knee)):
            return None
        if not VALID_HIP_RANGE[0] <= hip_height <= VALID_HIP_RANGE[1]:
            return None
        t = index / DEFAULT_FPS if capture_time_ns is None else capture_time_ns / 1e9
        self._window.append((t, index, hip_height, knee))
        while self._window[0][0] <= t - MEDIAN_WINDOW_S:
            self._window.popleft()
        h = float(np.median([w[2] for w in self._window]))
        k = float(np.median([w[3] for w in self._window]))
        # The filtered value stands for the middle of the window, which is where events are dated.
        i = self._window[len(self._window) // 2][1]
        return self._step(t, i, h, k)

    def lost(self, rose_out_of_view: bool) -> Rep | None:
        """No pose in this frame. ``rose_out_of_view``: the last pose had its shoulders above the
        top of the frame. Then, past the bottom with the newest raw sample standing, the rep
        completes on that sample (module doc) and is returned; otherwise nothing changes."""
        if not rose_out_of_view or self.phase not in (Phase.BOTTOM, Phase.UP) or not self._window:
            return None
        t, i, h, k = self._window[-1]
        if not self._is_top(h, k):
            return None
        self._window.clear()
        self.phase = Phase.UP
        return self._step(t, i, h, k)

    def _is_top(self, h: float, k: float) -> bool:
        return k >= TOP_KNEE and h >= TOP_HIP

    def _standing_hip(self, t: float) -> float | None:
        while self._standing and self._standing[0][0] < t - STANDING_MEMORY_S:
            self._standing.popleft()
        return max(h for _, h in self._standing) if self._standing else None

    def _is_bottom(self, t: float, h: float, k: float) -> bool:
        standing = self._standing_hip(t)
        return k <= BOTTOM_KNEE and (standing is None or h <= standing - HIP_DROP)

    def _begin_descent(self) -> None:
        self._min_hip = np.inf
        self._min_knee = np.inf
        self._bottom = -1

    def _track_min(self, i: int, h: float, k: float) -> None:
        if k < self._min_knee:
            self._min_knee, self._bottom = k, i
        self._min_hip = min(self._min_hip, h)

    def _step(self, t: float, i: int, h: float, k: float) -> Rep | None:
        top = self._is_top(h, k)
        if top:
            self._standing.append((t, h))
        ph = self.phase
        if ph in (Phase.UNKNOWN, Phase.ARMED):
            if top:
                self.phase, self._start = Phase.TOP, i
            elif ph is Phase.UNKNOWN and h >= ARM_HIP:
                self.phase, self._peak, self._start = Phase.ARMED, h, i
            elif ph is Phase.ARMED:
                if h > self._peak:
                    self._peak, self._start = h, i
                elif h <= self._peak - ARM_DROP:
                    self._begin_descent()
                    self.phase = Phase.DOWN
                    self._track_min(i, h, k)
                    if self._is_bottom(t, h, k):
                        self.phase = Phase.BOTTOM
            return None
        if ph is Phase.TOP:
            if top:
                self._start = i
            else:
                self._begin_descent()
                self.phase = Phase.DOWN
                self._track_min(i, h, k)
            return None
        self._track_min(i, h, k)
        bottom = self._is_bottom(t, h, k)
        if ph is Phase.DOWN:
            if bottom:
                self.phase = Phase.BOTTOM
            elif top:
                self.aborted += 1
                self.phase, self._start = Phase.TOP, i
            return None
        if ph is Phase.BOTTOM and not bottom:
            self.phase = Phase.UP
        if self.phase is Phase.UP:
            if bottom:
                self.phase = Phase.BOTTOM
            elif top:
                rep = Rep(len(self.reps) + 1, self._start, self._bottom, i, self._min_knee, self._min_hip)
                self.reps.append(rep)
                self.phase, self._start = Phase.TOP, i
                return rep
        return None
