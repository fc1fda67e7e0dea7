"""Pose inference speed (ms/frame, p50/p95) at the clips' native size and at 640 px wide.

    python -m bench.analysis_offline [--frames 150]

Runs the two sizes interleaved frame by frame (two estimators) so that load from other processes
on the machine hits both alike. Only ``PoseEstimator.estimate`` is timed (resize + MediaPipe).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from analysis.paths import squat_dir
from analysis.pose import PoseEstimator
from analysis.video import frames

CLIPS = ("side_barbell_rohanx01.mp4", "front_barbell_liftcheck.mp4", "workouttracker_squat_11.mp4",
         "oblique_bodyweight_intellifit2.mp4")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=150, help="frames per clip")
    args = ap.parse_args()
    times: dict[str, list[float]] = {"native": [], "640": []}
    for clip in CLIPS:
        with PoseEstimator(None) as native, PoseEstimator(640) as small:
            for n, (frame, _, _) in enumerate(frames(squat_dir() / clip)):
                if n >= args.frames:
                    break
                for key, est in (("native", native), ("640", small)):
                    t = time.perf_counter()
                    est.estimate(frame)
                    times[key].append((time.perf_counter() - t) * 1e3)
        print(f"{clip}: {frame.shape[1]}x{frame.shape[0]}")
    for key, ts in times.items():
        print(f"{key:>6}: n={len(ts)} p50={np.percentile(ts, 50):.1f} ms p95={np.percentile(ts, 95):.1f} ms")


if __name__ == "__main__":
    main()
