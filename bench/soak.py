"""Soak test: 16 cameras x 30 fps into a real hub for 10 minutes, with authentication on.

    .venv/bin/python -m bench.soak                     # 16 x 30 fps, 10 min, a line every 30 s
    .venv/bin/python -m bench.soak --minutes 2         # the short run
    .venv/bin/python -m bench.soak --cameras 8 --transport ws --report-s 10 --json
    .venv/bin/python -m bench.soak --store redis       # the hub's state in a redis-server it starts

With ``--store redis`` the hub keeps its state in Debian's ``redis-server``, started on a free port
(persistence off), and Redis's RSS is reported and held to the same target as the hub's.

The hub is ``fastapi_server.py`` on a free loopback port with camera and viewer tokens set (so the
token check is part of every upload), started fresh. The load runs in its own process: asyncio +
aiohttp, one session per camera like the real client, real 640x480 JPEGs cut from a clip, each
camera paced with absolute due times and one frame in flight (a send that overruns its slot skips
the slots it missed and counts them, never queues; ``bench/ingest.py``'s pacing). Each camera
declares its fps (``X-Camera-Fps``), so the hub's per-camera rate limit (2x) is in force too.

Every ``--report-s`` seconds it prints, for that interval: frames/s acknowledged (201 or WS ack),
errors (any other answer or a failed request), missed slots, ingest latency p50/p99 (send start to
the hub's answer, ms) and the hub process's RSS. At the end: totals, the overall p99, and the RSS
growth from the end of the first minute to the end (the first minute is warm-up: allocator
arenas, prometheus series, rings filling).

Targets: zero errors; RSS growth under 10 % after the first minute.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import queue
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.ingest import (
    SEND_TIMEOUT_S,
    HttpSender,
    Schedule,
    WsSender,
    fastapi_hub,
    load_jpegs,
    percentile,
    redis_server,
)
from server.auth import make_token

ROOT = Path(__file__).resolve().parent.parent

TARGET_CAMERAS = 16
TARGET_FPS = 30.0
TARGET_RSS_GROWTH = 0.10
WARMUP_S = 60.0  # RSS is compared from the end of the first minute
START_DELAY_S = 0.5


@dataclass(frozen=True)
class SoakSpec:
    target: str
    token: str
    transport: str
    cameras: int
    fps: float
    seconds: float
    report_s: float
    jpegs: list[bytes]


@dataclass
class Interval:
    """What the cameras did since the last report (latencies in s)."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    missed: int = 0
    example_error: str = ""


async def camera(index: int, spec: SoakSpec, sched: Schedule, end: float, box: list[Interval]) -> None:
    from formsync.hub_client import HubClient, HubUnreachable, open_session

    name = f"soak-{index:03d}"
    async with open_session(spec.token, SEND_TIMEOUT_S) as session:
        hub = HubClient(session, spec.target)
        sender = (HttpSender(hub, name, spec.fps) if spec.transport == "http" else WsSender(hub, name, spec.fps))
        k = 0
        try:
            while sched.due(k) < end:
                await asyncio.sleep(max(0.0, sched.due(k) - time.monotonic()))
                src = (k + 7 * index) % len(spec.jpegs)
                started = time.monotonic()
                try:
                    error = await sender.send(spec.jpegs[src], k, src)
                except HubUnreachable as exc:
                    error = str(exc)
                    await sender.close()
                done = time.monotonic()
                now = box[0]  # the current interval (swapped by the reporter)
                if error is None:
                    now.latencies.append(done - started)
                else:
                    now.errors += 1
                    now.example_error = now.example_error or f"{name}: {error}"
                k_next = sched.next_slot(k, done)
                now.missed += k_next - k - 1
                k = k_next
        finally:
            await sender.close()


async def run_load(spec: SoakSpec, out) -> None:
    start = time.monotonic() + START_DELAY_S
    end = start + spec.seconds
    period = 1.0 / spec.fps
    box = [Interval()]

    async def report() -> None:
        t = start
        while t < end:
            t = min(end, t + spec.report_s)
            await asyncio.sleep(max(0.0, t - time.monotonic()))
            done, box[0] = box[0], Interval()
            out.put({"t": t - start, "lat": done.latencies, "errors": done.errors, "missed": done.missed,
                     "example_error": done.example_error})

    cams = [camera(i, spec, Schedule(start, i * period / spec.cameras, period), end, box)
            for i in range(spec.cameras)]
    await asyncio.gather(report(), *cams)


def load_main(spec: SoakSpec, out) -> None:
    try:
        asyncio.run(run_load(spec, out))
    except BaseException as exc:  # reported to the parent, which prints it
        out.put({"fatal": f"{type(exc).__name__}: {exc}"})
    out.put({"done": True})


def line(report: dict, rss: int, seconds: float) -> str:
    lat = sorted(report["lat"])
    return (f"t={report['t']:6.0f} s  frames/s {len(lat) / seconds:7.1f}  errors {report['errors']:4d}  "
            f"missed {report['missed']:5d}  p50 {1e3 * percentile(lat, 0.5):6.1f} ms  "
            f"p99 {1e3 * percentile(lat, 0.99):6.1f} ms  hub RSS {rss / 2**20:7.1f} MiB")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/soak.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0, help="length of the run (default 10)")
    p.add_argument("--cameras", type=int, default=TARGET_CAMERAS, help="cameras (default 16)")
    p.add_argument("--fps", type=float, default=TARGET_FPS, help="frames/s per camera (default 30)")
    p.add_argument("--transport", choices=["http", "ws"], default="http")
    p.add_argument("--report-s", type=float, default=30.0, help="seconds between report lines (default 30)")
    p.add_argument("--json", action="store_true", help="also print the summary as one JSON object")
    p.add_argument("--store", choices=["memory", "redis"], default="memory",
                   help="where the hub keeps its state (redis: a redis-server started for the run)")
    args = p.parse_args(argv)
    with contextlib.ExitStack() as stack:
        redis_pid = None
        if args.store == "redis":
            url, redis_pid = stack.enter_context(redis_server())
            os.environ["FORMSYNC_HUB_REDIS_URL"] = url
        return soak(args, redis_pid)


def soak(args, redis_pid: int | None) -> int:

    token = make_token()
    # The hub takes its tokens from the environment it inherits (FORMSYNC_HUB_*).
    os.environ.update({"FORMSYNC_HUB_CAMERA_TOKENS": token, "FORMSYNC_HUB_VIEWER_TOKENS": make_token(),
                       "FORMSYNC_HUB_WORKER_TOKENS": make_token()})
    seconds = args.minutes * 60
    jpegs = load_jpegs()
    ctx = mp.get_context("spawn")
    reports: list[dict] = []
    rss: list[tuple[float, int]] = []
    print(f"soak: {args.cameras} cameras x {args.fps:g} fps over {args.transport} for {args.minutes:g} min, "
          f"authentication on; a line every {args.report_s:g} s", flush=True)
    redis_rss: list[int] = []
    with fastapi_hub() as (url, hub_pid):
        hub = psutil.Process(hub_pid)
        redis_proc = psutil.Process(redis_pid) if redis_pid else None
        out = ctx.Queue()
        spec = SoakSpec(url, token, args.transport, args.cameras, args.fps, seconds, args.report_s, jpegs)
        load = ctx.Process(target=load_main, args=(spec, out), name="soak-load")
        load.start()
        fatal = None
        try:
            while True:
                try:
                    msg = out.get(timeout=args.report_s + 30)
                except queue.Empty:
                    fatal = "no report from the load process"
                    break
                if msg.get("done"):
                    break
                if "fatal" in msg:
                    fatal = msg["fatal"]
                    continue
                mem = hub.memory_info().rss
                prev_t = reports[-1]["t"] if reports else 0.0
                reports.append(msg)
                rss.append((msg["t"], mem))
                text = line(msg, mem, msg["t"] - prev_t)
                if redis_proc is not None:
                    redis_rss.append(redis_proc.memory_info().rss)
                    text += f"  redis RSS {redis_rss[-1] / 2**20:7.1f} MiB"
                print(text, flush=True)
                if msg["errors"]:
                    print(f"    e.g. {msg['example_error'][:200]}", flush=True)
        finally:
            load.join(10)
            if load.is_alive():
                load.kill()
    lat = sorted(x for r in reports for x in r["lat"])
    errors = sum(r["errors"] for r in reports)
    base = next(((t, m) for t, m in rss if t >= min(WARMUP_S, seconds / 2)), rss[0] if rss else (0, 0))
    growth = (rss[-1][1] - base[1]) / base[1] if rss and base[1] else float("nan")
    summary = {
        "cameras": args.cameras, "fps": args.fps, "transport": args.transport, "seconds": seconds,
        "frames": len(lat), "frames_per_s": len(lat) / seconds if seconds else 0.0, "errors": errors,
        "missed": sum(r["missed"] for r in reports), "p50_ms": 1e3 * percentile(lat, 0.5),
        "p99_ms": 1e3 * percentile(lat, 0.99), "rss_start_mib": rss[0][1] / 2**20 if rss else None,
        "rss_base_mib": base[1] / 2**20, "rss_base_at_s": base[0], "rss_end_mib": rss[-1][1] / 2**20 if rss else None,
        "rss_growth": growth, "fatal": fatal,
    }
    print(f"total: {summary['frames']} frames "
          f"({summary['frames_per_s']:.1f}/s of {args.cameras * args.fps:g} offered), "
          f"{errors} errors, {summary['missed']} missed slots, p50 {summary['p50_ms']:.1f} ms, "
          f"p99 {summary['p99_ms']:.1f} ms")
    print(f"hub RSS: {summary['rss_start_mib']:.1f} MiB at {rss[0][0]:.0f} s, {summary['rss_base_mib']:.1f} MiB at "
          f"{base[0]:.0f} s, {summary['rss_end_mib']:.1f} MiB at the end: growth {100 * growth:+.1f} % "
          f"after the first minute")
    ok_errors, ok_rss = errors == 0 and fatal is None, growth < TARGET_RSS_GROWTH
    if redis_rss:
        i = next((k for k, (t, _) in enumerate(rss) if t >= base[0]), 0)
        summary["redis_rss_growth"] = redis_growth = (redis_rss[-1] - redis_rss[i]) / redis_rss[i]
        print(f"redis RSS: {redis_rss[i] / 2**20:.1f} MiB at {rss[i][0]:.0f} s, {redis_rss[-1] / 2**20:.1f} MiB at "
              f"the end: growth {100 * redis_growth:+.1f} %")
        ok_rss = ok_rss and redis_growth < TARGET_RSS_GROWTH
    print(f"target zero errors: {'PASS' if ok_errors else 'FAIL'}; "
          f"target RSS growth < {100 * TARGET_RSS_GROWTH:.0f} %: {'PASS' if ok_rss else 'FAIL'}"
          + (f"; load process: {fatal}" if fatal else ""))
    if args.json:
        print(json.dumps(summary))
    return 0 if ok_errors and ok_rss else 1


if __name__ == "__main__":
    sys.exit(main())
