"""What monitoring costs: psutil collectors, the HTTP status counter on every request, one round of
alert rules, and a /metrics scrape of a busy hub. Prints figures; nothing is asserted.

- collectors: one uncached ``HostCollector`` / ``ProcessCollector`` sample (what each heartbeat
  costs its sender every 2 s), µs;
- middleware: the extra time ``HttpMetricsMiddleware`` adds to one request, measured by calling a
  trivial ASGI app directly with and without it, µs (every frame upload pays it); and the
  per-frame counters of ``HubMetrics.frame_accepted``, µs;
- alerts: one ``AlertEngine.evaluate`` round with the default rules over N hosts, cameras and
  processes, µs (the hub runs one per second);
- scrape: ``GET /metrics`` on a real hub (uvicorn on loopback) holding heartbeats of P processes
  with 4 cameras each and frames of C cameras, ms, and the body size.

    .venv/bin/python -m bench.monitoring
    .venv/bin/python -m bench.monitoring --processes 64 --cameras 32 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from formsync.host import HostCollector
from formsync.process import ProcessCollector
from server.monitoring.alert_rules import DEFAULT_RULES
from server.monitoring.alerts import AlertEngine
from server.monitoring.http_metrics import HttpMetricsMiddleware, HttpStats
from server.monitoring.metrics import HubMetrics
from tests.conftest import synthetic_jpeg
from tests.monitoring.conftest import camera_link, heartbeat_body
from tests.support import RunningHub

ROOT = Path(__file__).resolve().parent.parent


def percentiles(values_s: list[float], scale: float) -> dict[str, float]:
    p50, p95 = np.percentile(values_s, [50, 95])
    return {"p50": round(p50 * scale, 2), "p95": round(p95 * scale, 2), "n": len(values_s)}


def bench_collectors(n: int) -> dict:
    clock = [0.0]
    host = HostCollector(max_age_s=1.0, clock=lambda: clock[0])
    proc = ProcessCollector(max_age_s=1.0, clock=lambda: clock[0])
    out = {}
    for name, collector in (("host", host), ("process", proc)):
        times = []
        for _ in range(n):
            clock[0] += 2.0  # past max_age: every sample reads psutil
            t0 = time.perf_counter()
            collector.sample()
            times.append(time.perf_counter() - t0)
        out[f"{name}_sample_us"] = percentiles(times, 1e6)
    return out


async def _ok_app(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def _noop_send(message) -> None:
    pass


async def _receive() -> dict:
    return {"type": "http.request", "body": b""}


def bench_middleware(n: int) -> dict:
    wrapped = HttpMetricsMiddleware(_ok_app, HttpStats(HubMetrics()))
    scope = {"type": "http", "method": "POST", "path": "/api/v1/cameras/front/frames"}

    async def run(app) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            await app(scope, _receive, _noop_send)
        return (time.perf_counter() - t0) / n

    async def both() -> tuple[list[float], list[float]]:
        bare, counted = [], []
        for _ in range(5):  # interleaved, best of 5: the machine is shared
            bare.append(await run(_ok_app))
            counted.append(await run(wrapped))
        return bare, counted

    bare, counted = asyncio.run(both())
    metrics = HubMetrics()
    t0 = time.perf_counter()
    for i in range(n):
        metrics.frame_accepted("front", i, i + 5_000_000)
    per_frame = (time.perf_counter() - t0) / n
    return {"bare_us": round(min(bare) * 1e6, 3), "with_middleware_us": round(min(counted) * 1e6, 3),
            "overhead_us": round((min(counted) - min(bare)) * 1e6, 3), "requests": n * 5,
            "frame_metrics_us": round(per_frame * 1e6, 3)}


def bench_alerts(hosts: int, cameras: int, processes: int, rounds: int) -> dict:
    engine = AlertEngine(DEFAULT_RULES)
    rng = np.random.default_rng(0)
    times = []
    for r in range(rounds):
        samples = {
            "host_cpu_percent": {f"h{i}": float(rng.uniform(0, 100)) for i in range(hosts)},
            "host_memory_percent": {f"h{i}": float(rng.uniform(0, 100)) for i in range(hosts)},
            "host_disk_free_percent": {f"h{i}": float(rng.uniform(0, 100)) for i in range(hosts)},
            "analysis_latency_ms": {f"c{i}": float(rng.uniform(0, 1000)) for i in range(cameras)},
            "camera_stale": {f"c{i}": float(rng.random() < 0.1) for i in range(cameras)},
            "process_lost": {f"p{i}": float(rng.random() < 0.1) for i in range(processes)},
            "event_queue_length": {"hub": float(rng.integers(0, 200))},
            "http_error_percent": {"hub": float(rng.uniform(0, 10))},
        }
        t0 = time.perf_counter()
        engine.evaluate(samples, r * 1_000_000_000)
        times.append(time.perf_counter() - t0)
    return {"round_us": percentiles(times, 1e6), "hosts": hosts, "cameras": cameras, "processes": processes,
            "active_at_end": len(engine.active())}


def bench_scrape(processes: int, cameras: int, scrapes: int, db_dir: Path) -> dict:
    with RunningHub(db_path=str(db_dir / "bench.db")) as hub, httpx.Client(base_url=hub.url) as http:
        for p in range(processes):
            cams = [camera_link(f"p{p}c{c}") for c in range(4)]
            r = http.post("/api/v1/heartbeats", json=heartbeat_body(f"client:bench:p{p}", cameras=cams))
            r.raise_for_status()
        base = time.time_ns()
        for c in range(cameras):
            for seq in range(3):
                http.post(f"/api/v1/cameras/cam{c}/frames", content=synthetic_jpeg(seq),
                          headers={"Content-Type": "image/jpeg", "X-Frame-Seq": str(seq),
                                   "X-Capture-Time-Ns": str(base + seq * 33_333_333)}).raise_for_status()
        times, size = [], 0
        for _ in range(scrapes):
            t0 = time.perf_counter()
            r = http.get("/metrics")
            times.append(time.perf_counter() - t0)
            size = len(r.content)
    return {"scrape_ms": percentiles(times, 1e3), "body_bytes": size, "processes": processes,
            "cameras": cameras}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--processes", type=int, default=32,
                   help="client heartbeats held by the hub (4 cameras each)")
    p.add_argument("--cameras", type=int, default=16, help="cameras that sent frames to the hub")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="formsync-bench-") as tmp:
        results = {
            "collectors": bench_collectors(200),
            "middleware": bench_middleware(20_000),
            "alerts": bench_alerts(hosts=16, cameras=args.cameras * 4, processes=args.processes, rounds=500),
            "scrape": bench_scrape(args.processes, args.cameras, 50, Path(tmp)),
        }
    if args.json:
        print(json.dumps(results))
        return 0
    c, m, a, s = (results[k] for k in ("collectors", "middleware", "alerts", "scrape"))
    for label, key in (("host sample", "host_sample_us"), ("process sample", "process_sample_us")):
        print(f"{label:<17} p50 {c[key]['p50']:8.1f} µs   p95 {c[key]['p95']:8.1f} µs")
    print(f"HTTP counter      {m['overhead_us']:8.2f} µs per request "
          f"({m['bare_us']:.2f} -> {m['with_middleware_us']:.2f} µs, best of 5 x {m['requests'] // 5})")
    print(f"frame counters    {m['frame_metrics_us']:8.2f} µs per accepted frame "
          "(received total + ingest latency)")
    print(f"alert round       p50 {a['round_us']['p50']:8.1f} µs   p95 {a['round_us']['p95']:8.1f} µs   "
          f"({a['hosts']} hosts, {a['cameras']} cameras, {a['processes']} processes)")
    print(f"/metrics scrape   p50 {s['scrape_ms']['p50']:8.2f} ms   p95 {s['scrape_ms']['p95']:8.2f} ms   "
          f"{s['body_bytes'] / 1000:.0f} kB ({s['processes']} processes x 4 cameras, "
          f"{s['cameras']} hub cameras)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
