"""Live analysis speed: real hub, real camera clients and the real analysis worker, as processes.

Two camera clients (default) replay real squat clips at 30 fps; one analysis worker (MediaPipe
Pose, one thread per camera) follows the hub. Over ``--seconds`` after a warm-up, from the hub's
``analysis`` events, it prints per camera:

- analysed fps (results per second of wall time) and frames skipped to stay on the newest;
- latency p50/p95: hub receive time of the result minus the frame's capture time, ms;
- work mean: the worker's own time per frame (decode, pose, gaze, scoring), ms: what gaze adds;
- CPU % of the worker, the hub and the clients (psutil, 100 % = one core), and the machine's.

Targets: each camera analysed at >= 15 fps, p95 latency <= 150 ms, on this 2-core
machine. Gaze is compared with ``--worker-args=--no-gaze`` when the worker has it.

    .venv/bin/python -m bench.analysis                  # 2 cameras, 30 s
    .venv/bin/python -m bench.analysis --cameras 1 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil

from formsync.hub_client import HubClient, HubUnreachable, open_session
from tests.support import DATA_DIR, free_port

ROOT = Path(__file__).resolve().parent.parent

CLIPS = ("squat/side_bodyweight_intellifit1.mp4", "squat/front_barbell_gymvision.mp4",
         "squat/oblique_bodyweight_intellifit2.mp4", "squat/side_barbell_rohanx01.mp4")
"""Default camera sources, relative to the shared data folder. The squat clips' faces are too
small for the face mesh; ``--clips gaze/laptop_gaze_1.mp4,...`` measures gaze at work."""


def start(cmd: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *cmd], cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)


async def wait_for(url: str, timeout_s: float = 30) -> None:
    """Until the hub at ``url`` answers ``/healthz``."""
    deadline = time.monotonic() + timeout_s
    async with open_session(timeout_s=2) as session:
        hub = HubClient(session, url)
        while time.monotonic() < deadline:
            try:
                await hub.health()
                return
            except HubUnreachable:
                await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout_s} s")


async def collect(hub: str, cameras: list[str], warmup_s: float, seconds: float,
                  on_window_start) -> dict[str, list[dict]]:
    """``analysis`` events per camera during the measuring window (after every camera's first
    result and ``warmup_s`` more); ``on_window_start()`` is called as the window opens."""
    events: dict[str, list[dict]] = {c: [] for c in cameras}
    seen: set[str] = set()
    async with open_session(timeout_s=10) as session, \
            HubClient(session, hub).events(frozenset({"analysis"})) as stream:
        messages = aiter(stream)
        try:
            # Warm-up: models load, the default reference may be built first.
            async with asyncio.timeout(120):
                while not seen >= set(cameras):
                    seen.add(json.loads(await anext(messages))["camera_id"])
        except TimeoutError:
            raise RuntimeError(f"no analysis for {sorted(set(cameras) - seen)} within 120 s") from None
        end_warmup = time.monotonic() + warmup_s
        while time.monotonic() < end_warmup:
            await anext(messages)
        on_window_start()
        try:
            async with asyncio.timeout(seconds):
                while True:
                    event = json.loads(await anext(messages))
                    event["t"] = time.monotonic()
                    events.setdefault(event["camera_id"], []).append(event)
        except TimeoutError:
            pass  # the window is over
    return events


async def skipped(hub: str, camera: str) -> int:
    async with open_session(timeout_s=10) as session:
        result = await HubClient(session, hub).analysis(camera)
        return result.skipped_frames if result is not None else 0


def prime_cpu(procs: dict[str, psutil.Process]) -> None:
    """Start CPU counters now: the next ``cpu_percent(None)`` covers the time since."""
    for proc in procs.values():
        proc.cpu_percent(None)
    psutil.cpu_percent(None)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cameras", type=int, default=2, choices=range(1, len(CLIPS) + 1))
    p.add_argument("--clips", help="comma-separated clips under the data folder (overrides --cameras)")
    p.add_argument("--seconds", type=float, default=30.0, help="measuring window")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds after the first results, not measured")
    p.add_argument("--worker-args", default="", help="extra arguments for python -m analysis.worker")
    args = p.parse_args()
    clips = args.clips.split(",") if args.clips else list(CLIPS[:args.cameras])
    missing = [c for c in clips if not (DATA_DIR / c).is_file()]
    if missing:
        print(f"footage not found: {', '.join(str(DATA_DIR / c) for c in missing)}", file=sys.stderr)
        return 2
    args.cameras = len(clips)

    port = free_port()
    hub = f"http://127.0.0.1:{port}"
    logs = Path(ROOT / "test-output" / "bench-analysis")
    logs.mkdir(parents=True, exist_ok=True)
    cams = [f"cam{k}" for k in range(args.cameras)]
    procs: dict[str, subprocess.Popen] = {}
    try:
        procs["hub"] = start(["fastapi_server.py", "--port", str(port), "--log-level", "warning"], logs / "hub.log")
        asyncio.run(wait_for(hub))
        procs["worker"] = start(["-m", "analysis.worker", "--hub", hub, "--status-interval", "3600",
                                 *shlex.split(args.worker_args)], logs / "worker.log")
        sources = [a for k, cam in enumerate(cams) for a in ("--camera", f"{cam}={DATA_DIR / clips[k]}")]
        procs["clients"] = start(["webcam_client.py", "--hub", hub, "--status-interval", "3600", *sources],
                                 logs / "clients.log")
        ps = {name: psutil.Process(proc.pid) for name, proc in procs.items()}
        events = asyncio.run(collect(hub, cams, args.warmup, args.seconds, lambda: prime_cpu(ps)))
        cpu = {name: proc.cpu_percent(None) for name, proc in ps.items()}
        machine_cpu = psutil.cpu_percent(None)
        skips = {cam: asyncio.run(skipped(hub, cam)) for cam in cams}
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()

    print(f"analysis worker, {args.cameras} camera(s) at 30 fps, {args.seconds:.0f} s measured "
          f"({psutil.cpu_count()} cores; worker args: {args.worker_args or '-'})")
    print(f"{'camera':8} {'clip':36} {'analysed fps':>12} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} "
          f"{'work mean':>9} {'skipped':>8}")
    ok = True
    for k, cam in enumerate(cams):
        ev = events.get(cam, [])
        lat = np.array([e["latency_ms"] for e in ev]) if ev else np.array([np.nan])
        fps = len(ev) / args.seconds
        p50, p95 = np.percentile(lat, [50, 95])
        ok &= fps >= 15 and p95 <= 150
        work = np.mean([e.get("processing_ms", np.nan) for e in ev]) if ev else np.nan
        print(f"{cam:8} {Path(clips[k]).name:36} {fps:12.1f} {p50:7.0f} {p95:7.0f} {np.max(lat):7.0f} "
              f"{work:9.1f} {skips[cam]:8d}")
    print("CPU % (100 = one core): " + ", ".join(f"{n} {c:.0f}" for n, c in cpu.items())
          + f"; machine {machine_cpu:.0f} % of all cores")
    print(f"target (>= 15 fps per camera, p95 <= 150 ms): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
