"""Running the offline path over the labelled clips, in parallel.

Each clip goes through a fresh ``PoseAnalyzer`` exactly as ``python -m analysis reps`` runs it, with
the reference library's references. With the pose cache (default), MediaPipe runs once per clip
and later runs replay the cached poses through ``PoseAnalyzer.update``, the very method ``process``
calls after inference, so the figures are those of the live path (``poses`` module).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import cache
from pathlib import Path

from analysis.evaluation.dataset import LabelledClip
from analysis.evaluation.metrics import ClipRecord, RepRecord


class _NoInference:
    """Estimator of a replay: poses come from the cache, so inference must never be asked for."""

    def estimate(self, frame):
        raise RuntimeError("a replayed clip must not run inference")


@cache
def _reference(root: str | None):
    from analysis.reference import ReferenceLibrary

    return ReferenceLibrary(root).reference_set()


def analyse(clip: LabelledClip, use_cache: bool = True, library_root: str | None = None) -> ClipRecord:
    """Run one clip through the offline path and collect its reps. Raises FileNotFoundError for a
    missing clip."""
    from analysis.offline import analyze_video
    from analysis.pose_cache import clip_poses
    from analysis.session import DEFAULT_MAX_WIDTH, PoseAnalyzer

    reference = _reference(library_root)
    if use_cache:
        poses = clip_poses(clip.path, DEFAULT_MAX_WIDTH)
        analyzer = PoseAnalyzer(clip.name, reference=reference, estimator=_NoInference(), history_frames=None)
        for seq, pose in enumerate(poses.poses):
            analyzer.update(pose, seq, int(round(seq * 1e9 / poses.fps)))
    else:
        analyzer = PoseAnalyzer(clip.name, reference=reference, history_frames=None)
        analyze_video(clip.path, analyzer)
        analyzer.close()
    reps = [RepRecord(clip.name, r.rep.index, r.start_time_ns, r.end_time_ns,
                      None if r.score is None else float(r.score.score),
                      sorted({f.name for f in r.faults}), r.view)
            for r in analyzer.reports]
    return ClipRecord(clip, analyzer.counter.count, reps)


def _analyse_file(file: str, use_cache: bool, library_root: str | None) -> ClipRecord:
    from analysis.evaluation.dataset import load_clips

    clip = next(c for c in load_clips() if c.file == file)
    return analyse(clip, use_cache, library_root)


def run(clips: tuple[LabelledClip, ...], jobs: int | None = None, use_cache: bool = True,
        library_root: str | Path | None = None, progress: bool = True) -> list[ClipRecord]:
    """Analyse ``clips`` on ``jobs`` processes (default: one per core) and return their records in
    the order given. The default references are built first, once, so workers do not race to build them."""
    from analysis import pose_cache
    from analysis.paths import DEFAULT_REFERENCES, squat_dir
    from analysis.reference import ReferenceLibrary
    from analysis.session import DEFAULT_MAX_WIDTH

    root = None if library_root is None else str(library_root)
    jobs = jobs or os.cpu_count() or 1
    if use_cache:  # the references' clips on every core, not one after the other
        pose_cache.warm([squat_dir() / file for _, file in DEFAULT_REFERENCES.values()], DEFAULT_MAX_WIDTH, jobs)
    ReferenceLibrary(root).ensure_defaults()
    results: dict[str, ClipRecord] = {}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(clips), desc="evaluate", unit="clip")
    if jobs == 1:
        for c in clips:
            results[c.file] = analyse(c, use_cache, root)
            if bar is not None:
                bar.update()
    else:
        # spawn, not fork: the parent may have run MediaPipe (building the default references), and a
        # forked copy of its graph threads corrupts the child's heap.
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(_analyse_file, c.file, use_cache, root): c.file for c in clips}
            for fut in as_completed(futures):
                results[futures[fut]] = fut.result()
                if bar is not None:
                    bar.update()
    if bar is not None:
        bar.close()
    return [results[c.file] for c in clips]
