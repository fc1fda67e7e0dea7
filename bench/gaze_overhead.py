"""What gaze adds to the analysis time per frame: pose alone vs pose + gaze, on real clips.

    python -m bench.gaze_overhead [--frames 150] [--clips a.mp4 b.mp4 ...]

Per clip, two analysers see the same frames interleaved frame by frame (so load from other processes
on the shared machine hits both alike):
    pose        ``PoseAnalyzer.analyze`` (MediaPipe Pose + reps/scoring), the worker without gaze;
    pose+gaze   ``CombinedAnalyzer.analyze`` (the same, then ``GazeAnalyzer`` cropped by the pose),
                the worker's default.
Printed per clip and overall: ms/frame p50 and p95 of each, the gaze step alone, and the overhead
two ways (target: at most +30 %):
    a/b       mean pose+gaze / mean pose - 1, across the two analysers;
    in-call   the median over frames of gaze time / pose time within the same ``CombinedAnalyzer``
              call: both parts of one frame see the same machine load, so it is the steadier figure
              on a busy machine;
and how often the face mesh ran, found a face, or was skipped (no person / face not visible / too small).
Frames are the clips' own (no JPEG round trip); the worker analyses what the camera clients upload
(at most 960 px wide by default), so its faces are smaller and its face mesh no slower than here.
"""

from __future__ import annotations

import argparse
import collections
import time
from pathlib import Path

import numpy as np

from analysis.combined import CombinedAnalyzer
from analysis.gaze.analyzer import GazeAnalyzer
from analysis.paths import data_dir
from analysis.session import PoseAnalyzer
from analysis.video import frames

CLIPS = ("gaze/laptop_gaze_1.mp4", "squat/front_barbell_liftcheck.mp4",
         "squat/side_bodyweight_intellifit1.mp4", "squat/workouttracker_squat_18.mp4",
         "squat/front_barbell_gymvision.mp4")


def pct(xs, q) -> float:
    return float(np.percentile(xs, q)) if xs else float("nan")


def run_clip(path: Path, n_frames: int) -> dict:
    pose_ms, combined_ms, gaze_ms = [], [], []
    outcome: collections.Counter[str] = collections.Counter()
    with PoseAnalyzer(path.stem) as pose_only, \
            CombinedAnalyzer(PoseAnalyzer(path.stem), GazeAnalyzer(path.stem)) as combined:
        for i, (frame, t_ns, seq) in enumerate(frames(path)):
            if i >= n_frames:
                break
            t0 = time.perf_counter()
            pose_only.analyze(frame, seq=seq, capture_time_ns=t_ns)
            t1 = time.perf_counter()
            g = combined.analyze(frame, seq=seq, capture_time_ns=t_ns)["gaze"]
            t2 = time.perf_counter()
            if i == 0:  # model loading, not per-frame cost
                continue
            pose_ms.append((t1 - t0) * 1e3)
            combined_ms.append((t2 - t1) * 1e3)
            gaze_ms.append(g["processing_ms"])
            outcome["face found" if g["face_found"] else (g["skipped"] or "face mesh ran, no face")] += 1
    return {"pose": pose_ms, "combined": combined_ms, "gaze": gaze_ms, "outcome": outcome,
            "size": frame.shape[1::-1]}


def line(name: str, r: dict) -> str:
    over = np.mean(r["combined"]) / np.mean(r["pose"]) - 1
    in_call = np.median([g / max(c - g, 1e-6) for c, g in zip(r["combined"], r["gaze"])])
    return (f"{name:38} pose p50 {pct(r['pose'], 50):5.1f} p95 {pct(r['pose'], 95):5.1f} "
            f"| pose+gaze p50 {pct(r['combined'], 50):5.1f} p95 {pct(r['combined'], 95):5.1f} "
            f"| gaze p50 {pct(r['gaze'], 50):4.1f} | overhead a/b {100 * over:+5.1f} %, "
            f"in-call {100 * in_call:+5.1f} %")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=150, help="frames per clip (the first is not timed)")
    ap.add_argument("--clips", nargs="*", default=list(CLIPS), help="paths under the shared data folder")
    args = ap.parse_args()
    total = {"pose": [], "combined": [], "gaze": []}
    print("ms per frame")
    for clip in args.clips:
        path = data_dir() / clip
        if not path.exists():
            print(f"{clip}: not found, skipped")
            continue
        r = run_clip(path, args.frames)
        for k in total:
            total[k] += r[k]
        print(line(f"{Path(clip).name} {r['size'][0]}x{r['size'][1]}", r))
        print(f"{'':38} face mesh: " + ", ".join(f"{k} {v}" for k, v in sorted(r["outcome"].items())))
    print(line("all clips", total))


if __name__ == "__main__":
    main()
