"""Matching frames across cameras by capture time, in the spirit of ROS message_filters'
ApproximateTime policy (http://wiki.ros.org/message_filters/ApproximateTime):

- each frame is used in at most one set, and sets come out in time order (per camera, the frames
  of successive sets have increasing capture times);
- a set is built around a *pivot*, the latest of the cameras' oldest unused frames, with each
  other camera's frame nearest to it, so the set has the smallest span available around the
  pivot; a set is only emitted once every camera has a frame at or after the pivot (a later frame
  can no longer be closer);
- with ``interval_window``, a camera whose frames are known to come at least ``L`` apart (ROS's
  ``setInterMessageLowerBound``, learnt here from the camera's last frames) need not deliver a
  frame at or after the pivot: once its newest frame is within ``L / 2`` before the pivot, no
  later frame of it can be closer, and the set goes out a frame interval earlier;
- a set whose span exceeds ``max_spread_ns`` is never emitted; frames that can no longer be part
  of any set are dropped and counted by reason.

Times are hub-clock capture times in ns. Frames must be added per camera in capture-time order.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar


class Timed(Protocol):
    @property
    def capture_time_ns(self) -> int: ...


T = TypeVar("T", bound=Timed)

DROP_SKIPPED = "skipped"  # passed over: a later frame of the same camera fitted a set better
DROP_TOO_OLD = "too_old"  # older than any future pivot minus the maximum spread
DROP_NO_PARTNER = "no_partner"  # a pivot with no frame of some camera within the maximum spread
DROP_OUT_OF_ORDER = "out_of_order"  # not newer than the camera's previous frame


@dataclass(frozen=True, slots=True)
class SyncSet(Generic[T]):
    """One frame per camera, in the synchroniser's camera order. ``spread_ns`` = newest - oldest;
    ``pivot`` = index of the frame the others were matched to."""

    frames: tuple[T, ...]
    spread_ns: int
    pivot: int = 0


class ApproximateTimeSync(Generic[T]):
    """Incremental synchroniser for a fixed list of cameras.

    Args:
        cameras: camera ids, the order of frames in every set.
        max_spread_ns: largest allowed span of a set (default 16.7 ms, half a frame at 30 fps).
        queue_size: per-camera bound on unused frames (oldest dropped as ``too_old``).
        interval_window: 0 (the default) waits, as ROS does, for a frame at or after the pivot from
            every camera. ``n > 0`` takes half the shortest of a camera's last ``n`` frame intervals
            as its lower bound ``L``: half, so that a camera whose rate doubles still keeps it. The
            sets are the same as with 0 as long as every camera keeps to its bound; one that comes
            faster can get a set whose partner is not the nearest frame, still within the spread.

    Raises ValueError for fewer than two cameras, duplicates, a non-positive spread or queue size,
    or a negative ``interval_window``.
    """

    def __init__(self, cameras: Sequence[str], max_spread_ns: int = 16_700_000, queue_size: int = 64,
                 interval_window: int = 0) -> None:
        if len(cameras) < 2 or len(set(cameras)) != len(cameras):
            raise ValueError(f"need two or more distinct cameras, got {list(cameras)}")
        if max_spread_ns <= 0 or queue_size < 1 or interval_window < 0:
            raise ValueError("max_spread_ns and queue_size must be positive, interval_window >= 0")
        self.cameras = tuple(cameras)
        self.max_spread_ns = max_spread_ns
        self._queues: dict[str, deque[T]] = {c: deque() for c in self.cameras}
        self._last_time: dict[str, int] = {}
        self._queue_size = queue_size
        self._intervals: dict[str, deque[int]] = {c: deque(maxlen=interval_window) for c in self.cameras}
        self.dropped: Counter[str] = Counter()
        self.sets_emitted = 0

    def add(self, camera_id: str, frame: T) -> list[SyncSet[T]]:
        """Add one frame; returns the sets it completed (usually zero or one).

        Raises KeyError for a camera not in ``cameras``.
        """
        queue = self._queues[camera_id]
        t = frame.capture_time_ns
        if camera_id in self._last_time and t <= self._last_time[camera_id]:
            self.dropped[DROP_OUT_OF_ORDER] += 1
            return []
        if camera_id in self._last_time and self._intervals[camera_id].maxlen:
            self._intervals[camera_id].append(t - self._last_time[camera_id])
        self._last_time[camera_id] = t
        queue.append(frame)
        if len(queue) > self._queue_size:
            queue.popleft()
            self.dropped[DROP_TOO_OLD] += 1
        return self._match()

    def _settled(self, camera_id: str, pivot_t: int) -> bool:
        """No later frame of this camera can be nearer the pivot than the ones it has delivered."""
        gap = pivot_t - self._queues[camera_id][-1].capture_time_ns
        if gap <= 0:
            return True
        intervals = self._intervals[camera_id]
        # A next frame comes >= L after the newest; it is no nearer once L >= 2 * gap (L = min / 2).
        return bool(intervals.maxlen) and len(intervals) == intervals.maxlen and min(intervals) >= 4 * gap

    def _match(self) -> list[SyncSet[T]]:
        out: list[SyncSet[T]] = []
        queues = self._queues
        while all(queues.values()):
            pivot_cam = max(self.cameras, key=lambda c: queues[c][0].capture_time_ns)
            pivot_t = queues[pivot_cam][0].capture_time_ns
            # Frames that cannot reach any pivot from now on (pivots never move back in time).
            horizon = pivot_t - self.max_spread_ns
            for cam in self.cameras:
                q = queues[cam]
                while q and q[0].capture_time_ns < horizon:
                    q.popleft()
                    self.dropped[DROP_TOO_OLD] += 1
            if not all(queues.values()):
                break
            if not all(self._settled(c, pivot_t) for c in self.cameras):
                break  # some camera may still deliver a frame closer to the pivot
            chosen: list[int] = []
            for cam in self.cameras:
                q = queues[cam]
                best = min(range(len(q)), key=lambda i: (abs(q[i].capture_time_ns - pivot_t), i))
                chosen.append(best)
            frames = tuple(queues[c][i] for c, i in zip(self.cameras, chosen))
            times = [f.capture_time_ns for f in frames]
            spread = max(times) - min(times)
            if spread > self.max_spread_ns:
                queues[pivot_cam].popleft()
                self.dropped[DROP_NO_PARTNER] += 1
                continue
            for cam, i in zip(self.cameras, chosen):
                q = queues[cam]
                for _ in range(i):
                    q.popleft()
                    self.dropped[DROP_SKIPPED] += 1
                q.popleft()
            self.sets_emitted += 1
            out.append(SyncSet(frames, spread, self.cameras.index(pivot_cam)))
        return out


def newest_set(rings: dict[str, Iterable[T]], max_spread_ns: int) -> tuple[SyncSet[T] | None, Counter[str]]:
    """Run the synchroniser over per-camera rings (each oldest first) and return the newest set
    it forms, with the drop counts. None when no set fits within ``max_spread_ns``."""
    sync: ApproximateTimeSync[T] = ApproximateTimeSync(list(rings), max_spread_ns, queue_size=10_000)
    merged = sorted(((f.capture_time_ns, cam, f) for cam, ring in rings.items() for f in ring),
                    key=lambda r: (r[0], r[1]))
    last = None
    for _, cam, frame in merged:
        sets = sync.add(cam, frame)
        if sets:
            last = sets[-1]
    return last, sync.dropped
