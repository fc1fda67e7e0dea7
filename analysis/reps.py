"""Rep segmentation: a state machine with hysteresis on hip height and knee angle.

Signals (one sample per analysed frame):
    hip_height: vertical distance from the ankle midpoint up to the hip midpoint, divided by leg
        length (hip-knee + knee-ankle, 3-D, mean of both legs), from MediaPipe world landmarks.
        ~0.9-1.0 standing, ~0.2-0.75 at the bottom of a squat. Being a ratio of lengths it does not
        depend on camera distance, and it works in front views where the 2-D knee angle does not
        change.
    knee: mean of the left and right 3-D knee angles in degrees (180 = straight).
Both are median-filtered over the samples of the last ``MEDIAN_WINDOW`` frames (by index, so a
live worker that skips frames is smoothed over the same ~0.17 s at 30 fps, not over 5 samples
spread across a second; causal, at most 2 frames of lag). Rep counts on the labelled clips hold
with every 2nd frame analysed, and on all but one WorkoutTracker clip with every 3rd or 4th.

States: UNKNOWN -> (ARMED) -> TOP -> DOWN -> BOTTOM -> UP -> TOP (rep counted on the return to TOP).
    TOP     entered when hip_height >= TOP_HIP (0.88) and knee >= TOP_KNEE (140 deg).
    BOTTOM  entered when hip_height <= BOTTOM_HIP (0.80) and knee <= BOTTOM_KNEE (130 deg).
    The 0.08 / 10 deg gaps between the two are the hysteresis: noise around one threshold cannot
    count a rep. A descent that returns to TOP without reaching BOTTOM is recorded as an aborted
    (partial) rep, not counted.
Start point: counting starts at the first descent from standing. A stream that begins mid-squat
and rises (side_bodyweight_intellifit1) therefore does not count that rise. A stream whose pose
only becomes valid during a descent (workouttracker_squat_9: the legs are cut off in the first
frames) is ARMED when first seen at hip_height >= ARM_HIP (0.70, clearly above any squat bottom)
and counts the descent if the hips then drop by >= ARM_DROP (0.10 leg lengths).
Thresholds were set from the real clips in ../shared/data/squat (standing 0.91-1.00, shallowest
counted bottom 0.75 in workouttracker_squat_18, deepest non-rep dip 0.84 in gymvision's re-rack)
and cross-checked by eye on contact sheets.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from enum import Enum

import numpy as np

TOP_HIP = 0.88
TOP_KNEE = 140.0
BOTTOM_HIP = 0.80
BOTTOM_KNEE = 130.0
ARM_HIP = 0.70
ARM_DROP = 0.10
MEDIAN_WINDOW = 5
VALID_HIP_RANGE = (-0.1, 1.2)
"""hip_height outside this range means a broken detection (e.g. legs flipped above the hips)."""


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

    start: last sample at the top before the descent; bottom: lowest hip_height; end: first sample
    back at the top. min_knee in degrees, min_hip_height in leg lengths.
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

    ``update`` returns the ``Rep`` completed by that sample, else None. Invalid samples (NaN or out
    of ``VALID_HIP_RANGE``) are skipped and keep the state.
    """

    def __init__(self) -> None:
        self.phase = Phase.UNKNOWN
        self.reps: list[Rep] = []
        self.aborted: int = 0
        self._hip: deque[float] = deque(maxlen=MEDIAN_WINDOW)
        self._knee: deque[float] = deque(maxlen=MEDIAN_WINDOW)
        self._idx: deque[int] = deque(maxlen=MEDIAN_WINDOW)
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

    @property
    def current_start(self) -> int:
        """Sample index where the rep in progress (or the next one) starts; -1 if unknown."""
        return self._start

    def update(self, index: int, hip_height: float, knee: float) -> Rep | None:
        if not (np.isfinite(hip_height) and np.isfinite(knee)):
            return None
        if not VALID_HIP_RANGE[0] <= hip_height <= VALID_HIP_RANGE[1]:
            return None
        self._hip.append(hip_height)
        self._knee.append(knee)
        self._idx.append(index)
        # The window spans MEDIAN_WINDOW frames of the source, not samples: when the live worker
        # skips frames, a 5-sample window would smooth (and delay) over a much longer time.
        while self._idx[0] <= index - MEDIAN_WINDOW:
            self._hip.popleft()
            self._knee.popleft()
            self._idx.popleft()
        # The filtered value stands for the middle of the window, which is where events are dated.
        h = float(np.median(self._hip))
        k = float(np.median(self._knee))
        i = self._idx[len(self._idx) // 2]
        return self._step(i, h, k)

    def _is_top(self, h: float, k: float) -> bool:
        return h >= TOP_HIP and k >= TOP_KNEE

    def _is_bottom(self, h: float, k: float) -> bool:
        return h <= BOTTOM_HIP and k <= BOTTOM_KNEE

    def _begin_descent(self) -> None:
        self._min_hip = np.inf
        self._min_knee = np.inf
        self._bottom = -1

    def _track_min(self, i: int, h: float, k: float) -> None:
        if h < self._min_hip:
            self._min_hip, self._bottom = h, i
        self._min_knee = min(self._min_knee, k)

    def _step(self, i: int, h: float, k: float) -> Rep | None:
        ph = self.phase
        if ph in (Phase.UNKNOWN, Phase.ARMED):
            if self._is_top(h, k):
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
                    if self._is_bottom(h, k):
                        self.phase = Phase.BOTTOM
            return None
        if ph is Phase.TOP:
            if self._is_top(h, k):
                self._start = i
            else:
                self._begin_descent()
                self.phase = Phase.DOWN
                self._track_min(i, h, k)
            return None
        self._track_min(i, h, k)
        if ph is Phase.DOWN:
            if self._is_bottom(h, k):
                self.phase = Phase.BOTTOM
            elif self._is_top(h, k):
                self.aborted += 1
                self.phase, self._start = Phase.TOP, i
            return None
        if ph is Phase.BOTTOM and not self._is_bottom(h, k):
            self.phase = Phase.UP
        if self.phase is Phase.UP:
            if self._is_bottom(h, k):
                self.phase = Phase.BOTTOM
            elif self._is_top(h, k):
                rep = Rep(len(self.reps) + 1, self._start, self._bottom, i, self._min_knee, self._min_hip)
                self.reps.append(rep)
                self.phase, self._start = Phase.TOP, i
                return rep
        return None
