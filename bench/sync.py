"""Clock offset estimation and frame synchronisation across cameras, measured end to end.

Several real camera clients (separate processes) replay the same real clip from a common start
(``--start-at``), each with an injected clock offset and optionally a random network delay; the
hub matches their frames. Ground truth: frames with the same source frame index were captured
together. Printed per run:

- offset estimation error: each client's estimate against the injected truth, ms;
- the share of synchronised sets whose frames share a source frame index, and p50/p95 spread;
- the same figures for naive pairing (the latest frame of each camera at each frame arrival).

Targets: offset error <= 2 ms on loopback; >= 99 % of sets correctly paired at 30 fps;
p95 spread <= 16.7 ms (half a frame period).

    .venv/bin/python -m bench.sync                  # 2 then 4 clients, with and without delay
    .venv/bin/python -m bench.sync --clients 2 --seconds 20 --delays 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from formsync.hub_client import HubClient, HubUnreachable, open_session
from tests.support import DATA_DIR, free_port

ROOT = Path(__file__).resolve().parent.parent

OFFSETS_MS = (+350.0, -800.0, +120.0, -45.0)


def start(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *cmd], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_hub(url: str, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    async with open_session(timeout_s=2) as session:
        hub = HubClient(session, url)
        while time.monotonic() < deadline:
            try:
                await hub.health()
                return
            except HubUnreachable:
                await asyncio.sleep(0.2)
    raise RuntimeError("hub did not start")


async def collect(url: str, cameras: list[str], seconds: float) -> tuple[list[dict], list[dict], dict]:
    """Sync sets (from ``sync_set`` events) and naive sets (latest frame of each camera at each
    ``frame`` event), over ``seconds``; then each camera's reported clock offset."""
    sets, naive, latest = [], [], {}
    async with open_session(timeout_s=10) as session:
        hub = HubClient(session, url)
        async with hub.events(frozenset({"frame", "sync_set"})) as stream:
            try:
                async with asyncio.timeout(seconds):
                    async for text in stream:
                        event = json.loads(text)
                        if event["type"] == "sync_set" and {f["camera_id"] for f in event["frames"]} == set(cameras):
                            sets.append(event)
                        elif event["type"] == "frame":
                            latest[event["camera_id"]] = event
                            if len(latest) == len(cameras):
                                naive.append({"frames": list(latest.values())})
            except TimeoutError:
                pass  # the window is over
        status = {c.camera_id: c.model_dump() for c in await hub.cameras()}
    return sets, naive, status


def pairing(sets: list[dict]) -> tuple[float, float, float, int]:
    """(share with one source index, p50 spread ms, p95 spread ms, count)."""
    if not sets:
        return float("nan"), float("nan"), float("nan"), 0
    same = [len({f["source_frame"] for f in s["frames"]}) == 1 for s in sets]
    spreads = [(max(f["capture_time_ns"] for f in s["frames"]) - min(f["capture_time_ns"] for f in s["frames"])) / 1e6
               for s in sets]
    return float(np.mean(same)), float(np.percentile(spreads, 50)), float(np.percentile(spreads, 95)), len(sets)


def run_once(clip: Path, n_clients: int, delay_ms: float, seconds: float, transport: str) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    procs = [start(["fastapi_server.py", "--port", str(port), "--log-level", "warning"])]
    try:
        asyncio.run(wait_hub(url))
        start_at = time.time() + 4.0
        cameras = [f"cam{i}" for i in range(n_clients)]
        for i, cam in enumerate(cameras):
            procs.append(start([
                "webcam_client.py", "--hub", url, "--camera", f"{cam}={clip}", "--max-width", "320",
                "--clock-offset-ms", str(OFFSETS_MS[i % len(OFFSETS_MS)]), "--start-at", f"{start_at:.6f}",
                "--net-delay-ms", str(delay_ms), "--transport", transport, "--status-interval", "600",
                "--log-level", "WARNING",
            ]))
        time.sleep(max(0.0, start_at - time.time()) + 1.0)  # let playback start and settle
        sets, naive, status = asyncio.run(collect(url, cameras, seconds))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
    errors = []
    for i, cam in enumerate(cameras):
        est = status.get(cam, {}).get("clock_offset_ms")
        truth = -OFFSETS_MS[i % len(OFFSETS_MS)]  # hub minus a client whose clock runs ahead by S
        errors.append(float("nan") if est is None else abs(est - truth))
    return {"clients": n_clients, "delay_ms": delay_ms, "transport": transport,
            "offset_error_ms": errors, "sync": pairing(sets), "naive": pairing(naive)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, nargs="+", default=[2, 4], help="client counts to run")
    p.add_argument("--delays", type=float, nargs="+", default=[0.0, 20.0], help="max random delay per direction, ms")
    p.add_argument("--seconds", type=float, default=10.0, help="measuring window per run, s")
    p.add_argument("--transport", choices=["http", "ws"], default="http")
    p.add_argument("--clip", type=Path, default=DATA_DIR / "squat" / "front_barbell_gymvision.mp4")
    p.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = p.parse_args()
    if not args.clip.exists():
        print(f"clip not found: {args.clip}", file=sys.stderr)
        return 2
    print(f"bench/sync.py: clip {args.clip.name}, {args.seconds:.0f} s per run, transport {args.transport}, "
          f"load {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
    print(f"{'clients':>7} {'delay':>6} | {'offset err ms (per client)':<28} | {'sync: same-src':>14} "
          f"{'p50':>6} {'p95':>6} {'sets':>5} | {'naive: same-src':>15} {'p50':>6} {'p95':>6}")
    results = []
    for n in args.clients:
        for delay in args.delays:
            r = run_once(args.clip, n, delay, args.seconds, args.transport)
            results.append(r)
            err = " ".join(f"{e:.2f}" for e in r["offset_error_ms"])
            s, nv = r["sync"], r["naive"]
            print(f"{n:>7} {delay:>4.0f}ms | {err:<28} | {s[0]:>13.1%} {s[1]:>6.1f} {s[2]:>6.1f} {s[3]:>5} | "
                  f"{nv[0]:>14.1%} {nv[1]:>6.1f} {nv[2]:>6.1f}", flush=True)
    loopback = [e for r in results if r["delay_ms"] == 0 for e in r["offset_error_ms"]]
    print(f"targets: offset error <= 2 ms on loopback: max {max(loopback, default=float('nan')):.2f} ms; "
          f"sets correctly paired >= 99 %: min {min(r['sync'][0] for r in results):.1%}; "
          f"p95 spread <= 16.7 ms: max {max(r['sync'][2] for r in results):.1f} ms")
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
