"""Pipeline soak: does any process grow while it runs for a long time, squats or none?

    .venv/bin/python -m bench.soak_pipeline --minutes 30        # the target run
    .venv/bin/python -m bench.soak_pipeline --minutes 3 --json  # a short one

Starts, on free loopback ports and a fresh SQLite file:
- the hub (``fastapi_server.py``);
- the analysis worker (``python -m analysis.worker``: pose and gaze, the default reference);
- camera ``squats``: ``webcam_client.py`` replaying ``side_bodyweight_intellifit1.mp4`` (2 reps every
  6.25 s; each replay ends a set, which the hub saves);
- camera ``nobody``: a live camera that never squats. A camera client process (``CameraWorker`` with a
  ``PushSource``, the browser camera's path) is fed ``gaze/laptop_gaze_1.mp4`` in a loop as a live
  feed: capture times move on and no source frame index ever goes back, so for the worker this is
  one endless set without a rep, the case where per-frame state used to pile up.

Every minute it prints each process's RSS (psutil, MB), the frames the worker analysed per camera
and the sets saved. At the end: each process's RSS growth from the end of minute 2 (warm-up:
MediaPipe's and the allocator's first buffers, rings and caches filling) to the end, and from the
end of minute 5: the worker keeps each camera's last 1800 analysed frames for rep scoring
(``analysis.session.DEFAULT_HISTORY``, ~4 kB each), which at ~10 analysed frames/s per camera
fills in about 3 minutes, so growth until then is that window filling, not a leak.
Target: growth under 5 % for every process over 30 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from bench.ingest import free_port, stop_process, wait_healthy
from formsync.hub_client import HubRejected, HubUnreachable, call_hub

ROOT = Path(__file__).resolve().parent.parent

DATA = Path(os.environ.get("FORMSYNC_DATA_DIR", ROOT.parent / "shared" / "data"))
SQUAT_CLIP = DATA / "squat" / "side_bodyweight_intellifit1.mp4"
NO_SQUAT_CLIP = DATA / "gaze" / "laptop_gaze_1.mp4"
WARMUP_MINUTES = 2
FULL_HISTORY_MINUTES = 5
TARGET_GROWTH = 0.05


def live_camera(hub_url: str, camera_id: str, clip: Path, fps: float) -> int:
    """A camera client whose frames are pushed, live, from ``clip`` played in a loop (runs until
    SIGINT/SIGTERM). Capture times are taken at push, as a webcam's would be."""
    import cv2

    from clients.camera import CameraWorker
    from clients.config import CameraConfig, ClientConfig
    from clients.heartbeat import start_heartbeat
    from clients.push import PushSource

    stop = threading.Event()
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda *_: stop.set())
    source = PushSource(fps=None, idle_timeout_s=None)
    config = ClientConfig(hub_url=hub_url, status_interval_s=600,
                          cameras=(CameraConfig(camera_id=camera_id, source="push", fps=fps, max_width=640),))
    worker = CameraWorker(config.cameras[0], config, capture_factory=source.capture_loop)
    worker.start()
    heartbeat = start_heartbeat(config, [worker])
    cap, period, k, start = cv2.VideoCapture(str(clip)), 1.0 / fps, 0, time.monotonic()
    try:
        while not stop.wait(max(0.0, start + k * period - time.monotonic())):
            ok, image = cap.read()
            if not ok:  # the clip ended: play it again, as one continuous live feed
                cap.release()
                cap = cv2.VideoCapture(str(clip))
                continue
            source.push(image, time.time_ns())
            k += 1
    finally:
        cap.release()
        source.close()
        heartbeat.stop(timeout=0)
        worker.stop()
        worker.join(5)
        heartbeat.join(2)
    return 0


def rss_mb(proc: subprocess.Popen) -> float | None:
    try:
        p = psutil.Process(proc.pid)
        return sum(q.memory_info().rss for q in [p, *p.children(recursive=True)]) / 1e6
    except psutil.NoSuchProcess:
        return None


def worker_counts(hub_url: str) -> dict[str, int]:
    """Frames analysed so far per camera, from the worker's heartbeat at the hub."""
    try:
        beats = call_hub(hub_url, lambda hub: hub.heartbeats(), timeout_s=5)
    except (HubUnreachable, HubRejected):
        return {}
    return {a.camera_id: a.analysed_total for p in beats.processes if p.role == "worker" for a in p.analysis}


def sets_saved(db: Path) -> int | None:
    """Closed sets in the hub's SQLite file, read directly: asking the hub for a list that grows
    all run long would grow the hub's memory with it (building a 500-set answer costs ~14x its JSON
    size at its peak) and measure the benchmark, not the pipeline."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT count(*) FROM sets").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return None


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--fps", type=float, default=15.0, help="each camera's frame rate")
    p.add_argument("--json", action="store_true", help="print one JSON document at the end")
    p.add_argument("--live-camera", nargs=3, metavar=("HUB", "ID", "CLIP"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.live_camera:
        hub, cam, clip = args.live_camera
        return live_camera(hub, cam, Path(clip), args.fps)
    for clip in (SQUAT_CLIP, NO_SQUAT_CLIP):
        if not clip.exists():
            raise SystemExit(f"clip not found: {clip} (set FORMSYNC_DATA_DIR to the shared data folder)")

    tmp = Path(tempfile.mkdtemp(prefix="formsync-soak-"))
    port = free_port()
    hub_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "FORMSYNC_HUB_DB_PATH": str(tmp / "hub.db"), "PYTHONUNBUFFERED": "1",
           "FORMSYNC_WORKER_SPOOL_DIR": str(tmp / "spool")}
    py = sys.executable
    commands = {
        "hub": [py, "fastapi_server.py", "--host", "127.0.0.1", "--port", str(port),
                "--log-level", "warning"],
        "worker": [py, "-m", "analysis.worker", "--hub", hub_url, "--status-interval", "600"],
        "cam-squats": [py, "webcam_client.py", "--hub", hub_url, "--camera", f"squats={SQUAT_CLIP}",
                       "--fps", f"{args.fps:g}", "--max-width", "640", "--status-interval", "600"],
        "cam-nobody": [py, "bench/soak_pipeline.py", "--fps", f"{args.fps:g}", "--live-camera", hub_url,
                       "nobody", str(NO_SQUAT_CLIP)],
    }
    procs: dict[str, subprocess.Popen] = {}
    rows: list[dict] = []
    logs = {name: (tmp / f"{name}.log").open("wb") for name in commands}
    try:
        procs["hub"] = subprocess.Popen(commands["hub"], cwd=ROOT, env=env, stdout=logs["hub"],
                                        stderr=subprocess.STDOUT)
        with open(tmp / "hub.log", "rb") as hub_log:
            wait_healthy(hub_url, procs["hub"], hub_log)
        for name in ("worker", "cam-squats", "cam-nobody"):
            procs[name] = subprocess.Popen(commands[name], cwd=ROOT, env=env, stdout=logs[name],
                                           stderr=subprocess.STDOUT)
        if not args.json:
            print(f"soak: {args.minutes:g} min, 2 cameras x {args.fps:g} fps, logs in {tmp}", flush=True)
            print(f"{'min':>4} " + " ".join(f"{n + ' MB':>14}" for n in procs)
                  + f" {'analysed squats':>16} {'analysed nobody':>16} {'sets':>5}", flush=True)
        try:
            sample_every_minute(args, procs, hub_url, rows, tmp)
        except KeyboardInterrupt:  # Ctrl-C: stop, and report the minutes measured
            print(f"soak: interrupted after {len(rows)} minute(s)", flush=True)
    finally:
        for name in reversed(list(procs)):
            stop_process(procs[name])
        for f in logs.values():
            f.close()
    return report(args, rows, list(procs), tmp)


def sample_every_minute(args, procs: dict[str, subprocess.Popen], hub_url: str, rows: list[dict],
                        tmp: Path) -> None:
    """Append (and print) one row of figures at the end of every minute. SystemExit if a process died."""
    start = time.monotonic()
    for minute in range(1, int(args.minutes) + 1):
        deadline = start + minute * 60
        while (left := deadline - time.monotonic()) > 0:
            dead = [n for n, pr in procs.items() if pr.poll() is not None]
            if dead:
                raise SystemExit(f"soak: {', '.join(dead)} exited; logs in {tmp}")
            time.sleep(min(left, 5))  # a benchmark's sampling period, not a wait for a condition
        counts = worker_counts(hub_url)
        row = {"minute": minute, "rss_mb": {n: rss_mb(pr) for n, pr in procs.items()},
               "analysed": counts, "sets": sets_saved(tmp / "hub.db")}
        rows.append(row)
        if not args.json:
            print(f"{minute:4d} " + " ".join(f"{row['rss_mb'][n]:14.1f}" for n in procs)
                  + f" {counts.get('squats', 0):16d} {counts.get('nobody', 0):16d} {row['sets'] or 0:5d}",
                  flush=True)


def report(args, rows: list[dict], procs: list[str], tmp: Path) -> int:
    """Print the growth figures; 0 when the target is met (or too short to tell), else 1."""
    def growth_from(minute: int) -> dict[str, float]:
        if len(rows) <= minute:
            return {}
        base, end = rows[minute - 1]["rss_mb"], rows[-1]["rss_mb"]
        return {n: round(100 * (end[n] - base[n]) / base[n], 2) for n in procs}

    growth, growth_full = growth_from(WARMUP_MINUTES), growth_from(FULL_HISTORY_MINUTES)
    met = bool(growth) and all(g < 100 * TARGET_GROWTH for g in growth.values())
    if args.json:
        print(json.dumps({"minutes": args.minutes, "fps": args.fps, "rows": rows, "target_met": met,
                          "growth_percent_after_warmup": growth,
                          "growth_percent_after_full_history": growth_full, "logs": str(tmp)}, indent=2))
    elif growth:
        for minute, figures in ((WARMUP_MINUTES, growth), (FULL_HISTORY_MINUTES, growth_full)):
            if figures:
                print(f"RSS growth from minute {minute} to minute {rows[-1]['minute']}: "
                      + ", ".join(f"{n} {g:+.2f} %" for n, g in figures.items()))
        print(f"target (every process < {100 * TARGET_GROWTH:g} % after minute {WARMUP_MINUTES}): "
              f"{'met' if met else 'NOT met'}")
    else:
        print(f"run longer than {WARMUP_MINUTES} minutes for growth figures")
    return 0 if met or not growth else 1


if __name__ == "__main__":
    sys.exit(main())
