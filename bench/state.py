"""The hub's state stores, embedded and in Redis: latency and CPU per operation (docs/shared-state.md).

    .venv/bin/python -m bench.state                 # ~20 s; starts its own redis-server on a free port
    .venv/bin/python -m bench.state --ops 5000 --json

For each store and implementation it runs ``--ops`` operations as the hub does and prints the
operations per second, p50/p99 latency (ms) and this process's CPU time per 1000 operations (ms;
the hub's side, Redis's own CPU not included):

- results ``put`` + ``get`` on the event loop: embedded, ``redis.asyncio`` (what the hub uses),
  and the blocking client through a thread (the alternative);
- a closed set's ``put`` from a thread: SQLite, Redis;
- a heartbeat registry's ``sync`` round with ``--processes`` processes reporting (Redis only);
- an alert log ``append`` of one transition: SQLite, Redis.

Redis runs as Debian's ``redis-server`` with ``appendonly yes`` and ``appendfsync everysec`` (the
settings docs/shared-state.md recommends), in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from starlette.concurrency import run_in_threadpool


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (scripts/ensure_redis.sh installs it)")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                             "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
                             "--loglevel", "warning"], stdout=subprocess.DEVNULL)
    for _ in range(500):
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.01)
    proc.kill()
    raise SystemExit("redis-server did not start")


def figures(name: str, latencies: list[float], cpu_s: float, wall_s: float) -> dict:
    ordered = sorted(latencies)
    n = len(ordered)
    return {"case": name, "ops": n, "ops_per_s": round(n / wall_s), "p50_ms": round(ordered[n // 2] * 1e3, 3),
            "p99_ms": round(ordered[min(n - 1, int(n * 0.99))] * 1e3, 3),
            "cpu_ms_per_1000": round(cpu_s / n * 1e6, 1)}


async def timed_async(name: str, ops: int, op) -> dict:
    latencies = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for k in range(ops):
        t0 = time.perf_counter()
        await op(k)
        latencies.append(time.perf_counter() - t0)
    return figures(name, latencies, time.process_time() - cpu0, time.perf_counter() - wall0)


def result_item(k: int):
    from server.results import StoredResult

    return StoredResult(f"cam{k % 16}", time.time_ns(), {
        "seq": k, "capture_time_ns": time.time_ns(), "score": 80.0, "landmarks": [[0.5, 0.5, 0.0, 0.9]] * 33,
        "angles": {"knee_left": 92.0}, "rep": {"count": 2, "phase": "bottom", "rep_scores": [90.0]}})


async def bench_results(url: str, ops: int) -> list[dict]:
    import orjson

    from server.results import EmbeddedLatestResults
    from server.shared_state.connection import connect, connect_sync
    from server.shared_state.results import _PUT, RedisLatestResults

    out = []
    embedded = EmbeddedLatestResults()

    async def embedded_op(k):
        await embedded.put(result_item(k))
        await embedded.get(f"cam{k % 16}")

    out.append(await timed_async("results put+get: embedded", ops, embedded_op))
    shared = RedisLatestResults(connect(url), owns_client=True)

    async def redis_op(k):
        await shared.put(result_item(k))
        await shared.get(f"cam{k % 16}")

    out.append(await timed_async("results put+get: redis.asyncio on the loop", ops, redis_op))
    await shared.close()
    blocking = connect_sync(url)
    put = blocking.register_script(_PUT)  # the same script as the hub's

    def blocking_put_get(k):
        item = result_item(k)
        body = orjson.dumps({"hub_receive_time_ns": item.hub_receive_time_ns, "result": item.result})
        put(keys=["bench:results", "bench:result-capture"],
            args=[item.camera_id, str(item.result["capture_time_ns"]), body])
        orjson.loads(blocking.hget("bench:results", item.camera_id))

    async def thread_op(k):
        await run_in_threadpool(blocking_put_get, k)

    out.append(await timed_async("results put+get: blocking client in a thread", ops, thread_op))
    blocking.close()
    return out


def a_set(k: int) -> dict:
    return {"set_id": uuid.uuid4().hex, "status": "closed", "end_reason": "rest", "started_at_ns": time.time_ns(),
            "ended_at_ns": time.time_ns(), "reference": "ref", "view": "side", "reps": 8, "mean_score": 80.5,
            "reps_detail": [{"rep": r + 1, "start_seq": r, "bottom_seq": r, "end_seq": r, "score": 80.0,
                             "deviation_deg": {"knee": 5.0}, "faults": [], "view": "side"} for r in range(8)],
            "faults": []}


async def bench_sets(url: str, folder: Path, ops: int) -> list[dict]:
    from server.set_store import open_set_store

    out = []
    for label, redis_url in (("SQLite", None), ("Redis", url)):
        store = open_set_store(folder / "sets.db", redis_url)

        async def op(k, store=store):
            await run_in_threadpool(store.put, f"cam{k % 16}", a_set(k))

        out.append(await timed_async(f"closed set put (thread): {label}", ops, op))
        store.close()
    return out


async def bench_heartbeats(url: str, processes: int, rounds: int) -> list[dict]:
    from server.shared_state.connection import connect
    from server.shared_state.heartbeats import RedisHeartbeatRegistry

    client = connect(url)
    registry = RedisHeartbeatRegistry(3, client)
    body = {"role": "client", "interval_s": 2.0, "host": {"cpu_percent": 10.0}, "cameras": []}

    async def op(k):
        now = time.time_ns()
        for p in range(processes):
            registry.record({**body, "process_id": f"client:pc{p}"}, now)
        await registry.sync(now)

    result = await timed_async(f"heartbeat sync round, {processes} processes: Redis", rounds, op)
    await client.aclose()
    return [result]


async def bench_alert_log(url: str, folder: Path, ops: int) -> list[dict]:
    from server.monitoring.alert_log import open_alert_log
    from server.monitoring.alerts import Transition

    out = []
    for label, redis_url in (("SQLite", None), ("Redis", url)):
        log = open_alert_log(folder / "alerts.db", redis_url)

        async def op(k, log=log):
            t = Transition("cpu_high", f"host{k % 8}", "warning", "firing" if k % 2 else "cleared", 91.0, 90.0,
                           time.time_ns(), time.time_ns(), "cpu high")
            await run_in_threadpool(log.append, [t])

        out.append(await timed_async(f"alert log append (thread): {label}", ops, op))
        log.close()
    return out


async def main_async(args) -> list[dict]:
    folder = Path(tempfile.mkdtemp(prefix="formsync-bench-state-"))
    proc, url = start_redis(folder)
    try:
        rows = await bench_results(url, args.ops)
        rows += await bench_sets(url, folder, args.ops // 5)
        rows += await bench_heartbeats(url, args.processes, 200)
        rows += await bench_alert_log(url, folder, args.ops // 5)
        return rows
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ops", type=int, default=5000, help="operations per results case (sets, alerts: a fifth)")
    parser.add_argument("--processes", type=int, default=64, help="processes reporting heartbeats")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'case':<58} {'ops/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/1000':>12}")
    for r in rows:
        print(f"{r['case']:<58} {r['ops_per_s']:>8} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['cpu_ms_per_1000']:>12}")


if __name__ == "__main__":
    main()
