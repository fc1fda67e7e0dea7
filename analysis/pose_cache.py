"""MediaPipe poses of a whole clip, extracted once and cached on disk.

Pose inference is the slow part of the offline path (~20-30 ms a frame on one core); everything
after it (``PoseAnalyzer.update``) is deterministic and cheap. The evaluation and reference building
therefore extract each clip's poses once with the live estimator's settings
(``PoseEstimator(max_width=640)``, video mode) and replay them through the very same ``update``
path. A cache entry is keyed by the clip's content hash, the MediaPipe version and the analysis
width, so a changed clip or library is re-extracted.

Cache folder: ``$FORMSYNC_POSE_CACHE`` or ``<repo>/var/pose-cache``. One ``<key>.npz`` per clip:
    found (T,) bool, landmarks (T, 33, 4) float32, world_landmarks (T, 33, 4) float32 (NaN where no
    pose), image_size (2,) int32 (width, height), fps () float64.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis.paths import REPO_ROOT
from analysis.pose import PoseFrame


def cache_dir() -> Path:
    return Path(os.environ.get("FORMSYNC_POSE_CACHE", REPO_ROOT / "var" / "pose-cache"))


@dataclass(frozen=True)
class ClipPoses:
    """Poses of every frame of one clip: ``poses[seq]`` is a ``PoseFrame`` or None; fps of the clip."""

    fps: float
    poses: list[PoseFrame | None]

    def __len__(self) -> int:
        return len(self.poses)


def _file_hash(path: Path) -> str:
    h = hashlib.sha1()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cache_key(path: Path, max_width: int | None) -> str:
    import mediapipe

    return f"{_file_hash(path)[:16]}-mp{mediapipe.__version__}-w{max_width or 0}"


def extract(path: Path, max_width: int | None) -> ClipPoses:
    """Run MediaPipe Pose over every frame of ``path`` (no cache). Raises like ``video.probe``."""
    from analysis.pose import PoseEstimator
    from analysis.video import frames, probe

    info = probe(path)
    with PoseEstimator(max_width=max_width) as est:
        poses = [est.estimate(frame) for frame, _, _ in frames(path)]
    return ClipPoses(info.fps, poses)


def _entry(path: Path, max_width: int | None) -> Path:
    return cache_dir() / f"{cache_key(path, max_width)}.npz"


def _save(poses: ClipPoses, target: Path) -> None:
    n = len(poses.poses)
    found = np.array([p is not None for p in poses.poses], bool)
    lm = np.full((n, 33, 4), np.nan, np.float32)
    wl = np.full((n, 33, 4), np.nan, np.float32)
    size = (0, 0)
    for i, p in enumerate(poses.poses):
        if p is not None:
            lm[i], wl[i], size = p.landmarks, p.world_landmarks, p.image_size
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, found=found, landmarks=lm, world_landmarks=wl,
                        image_size=np.array(size, np.int32), fps=np.float64(poses.fps))
    os.replace(tmp, target)


def _load(source: Path) -> ClipPoses:
    arr = np.load(source)
    size = (int(arr["image_size"][0]), int(arr["image_size"][1]))
    poses = [PoseFrame(lm, wl, size) if ok else None
             for ok, lm, wl in zip(arr["found"], arr["landmarks"], arr["world_landmarks"])]
    return ClipPoses(float(arr["fps"]), poses)


def cached(path: str | Path, max_width: int | None) -> ClipPoses | None:
    """The cached poses of ``path``, or None when the cache has none for this clip, MediaPipe
    version and width. Raises FileNotFoundError for a missing clip."""
    target = _entry(Path(path), max_width)
    return _load(target) if target.exists() else None


def store(path: str | Path, max_width: int | None, poses: ClipPoses) -> None:
    """Cache ``poses`` (one per frame of ``path``, estimated at ``max_width``)."""
    _save(poses, _entry(Path(path), max_width))


def clip_poses(path: str | Path, max_width: int | None, use_cache: bool = True) -> ClipPoses:
    """Poses of every frame of ``path``, from the cache when it holds them, else extracted (and
    cached when ``use_cache``). Raises FileNotFoundError / ValueError for an unreadable video."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(path)
    if not use_cache:
        return extract(path, max_width)
    poses = cached(path, max_width)
    if poses is None:
        poses = extract(path, max_width)
        store(path, max_width, poses)
    return poses


def _extract_into_cache(path: Path, max_width: int | None) -> None:
    clip_poses(path, max_width)


def warm(paths: Iterable[str | Path], max_width: int | None, jobs: int | None = None) -> int:
    """Extract into the cache the poses of every clip of ``paths`` it lacks, on ``jobs`` processes
    (default: one per core; MediaPipe Pose keeps one core busy per clip). Returns how many clips were
    extracted. Raises like ``clip_poses`` for a missing or unreadable clip."""
    todo = [Path(p) for p in dict.fromkeys(str(p) for p in paths)]
    todo = [p for p in todo if not _entry(p, max_width).exists()]
    jobs = min(jobs or os.cpu_count() or 1, len(todo))
    if jobs <= 1:
        for path in todo:
            _extract_into_cache(path, max_width)
        return len(todo)
    todo.sort(key=lambda p: p.stat().st_size, reverse=True)  # longest first: the processes end together
    # spawn, not fork: the parent may have run MediaPipe, and a forked copy of its graph threads
    # corrupts the child's heap.
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        for _ in pool.map(_extract_into_cache, todo, [max_width] * len(todo)):
            pass
    return len(todo)
