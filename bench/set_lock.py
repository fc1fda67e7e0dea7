"""Frame uploads while another connection holds the hub database's write lock.

    .venv/bin/python -m bench.set_lock                  # 3 rounds of 3 s free + 3 s locked (~25 s)
    .venv/bin/python -m bench.set_lock --rounds 5 --cameras 4 --json

The hub is ``fastapi_server.py`` on a free loopback port with a fresh SQLite file. Each round has
two phases of ``--seconds``: the database free, then another connection holding ``BEGIN
EXCLUSIVE`` on it (as a backup tool or a second hub on the same file would). In both phases
``--cameras`` cameras upload real 640x480 JPEGs at ``--fps`` (absolute due times, one frame in
flight, keep-alive connection per camera), a dashboard reads the camera's live set
(``GET .../set``, an ``async`` route) every 50 ms and the set list every 250 ms, and a worker
PUTs a closed set at the phase's start. While locked, that PUT cannot be written: the hub waits
its busy timeout off the event loop, answers ``persisted: false``, and writes the set later.

Prints per phase: uploads, refused (any answer but 201), upload latency p50/p99/max (send start to
the 201, ms), the slowest live-set read, and the PUT's answer time and ``persisted``.
Target: while locked, upload p99 under 20 ms and no frame refused.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.ingest import free_port, load_jpegs, percentile, stop_process, wait_healthy

ROOT = Path(__file__).resolve().parent.parent

TARGET_P99_MS = 20.0
LIVE_READ_PERIOD_S = 0.05
LIST_READ_PERIOD_S = 0.25


def closed_set(ended_ns: int) -> dict:
    """A minimal closed set as the worker sends it (``formsync.wire.sets.SetIn``)."""
    return {"set_id": uuid.uuid4().hex, "status": "closed", "end_reason": "rest",
            "started_at_ns": ended_ns - 5 * 10**9, "ended_at_ns": ended_ns, "reference": None,
            "view": "side", "reps": 1, "mean_score": 80.0,
            "reps_detail": [{"rep": 1, "start_seq": 0, "bottom_seq": 5, "end_seq": 10, "score": 80.0,
                             "faults": [], "view": "side"}], "faults": []}


@dataclass
class Phase:
    """What one phase measured: upload latencies (s) and refusals, the slowest live-set read (s),
    and the worker's PUT (answer time in s, ``persisted``)."""

    latencies: list[float] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    slowest_read_s: float = 0.0
    put_s: float | None = None
    persisted: bool | None = None

    def summary(self) -> dict:
        lat = sorted(self.latencies)
        ms = (lambda q: round(percentile(lat, q) * 1e3, 2))
        return {"uploads": len(lat) + len(self.refused), "refused": len(self.refused),
                "p50_ms": ms(0.50), "p99_ms": ms(0.99), "max_ms": round(max(lat, default=0) * 1e3, 2),
                "slowest_live_read_ms": round(self.slowest_read_s * 1e3, 2),
                "put_s": None if self.put_s is None else round(self.put_s, 3), "persisted": self.persisted}


def _camera(url: str, camera_id: str, jpegs: list[bytes], fps: float, start: float, end: float,
            first_seq: int, phase: Phase, lock: threading.Lock) -> None:
    period = 1.0 / fps
    with httpx.Client(base_url=url, timeout=10) as http:
        k = 0
        while (due := start + k * period) < end:
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)  # pacing a load generator, not waiting for a condition
            headers = {"Content-Type": "image/jpeg", "X-Capture-Time-Ns": str(time.time_ns()),
                       "X-Frame-Seq": str(first_seq + k), "X-Camera-Fps": f"{fps:g}"}
            t0 = time.perf_counter()
            try:
                r = http.post(f"/api/v1/cameras/{camera_id}/frames", content=jpegs[k % len(jpegs)],
                              headers=headers)
                outcome = None if r.status_code == 201 else f"HTTP {r.status_code}: {r.text[:200]}"
            except httpx.HTTPError as exc:
                outcome = f"{type(exc).__name__}: {exc}"
            took = time.perf_counter() - t0
            with lock:
                if outcome is None:
                    phase.latencies.append(took)
                else:
                    phase.refused.append(outcome)
            # The next free slot: a slow answer skips the slots it overran, never queues them.
            k = max(k + 1, int((time.monotonic() - start) / period) + 1)


def _reader(url: str, camera_id: str, end: float, phase: Phase) -> None:
    with httpx.Client(base_url=url, timeout=10) as http:
        next_list = 0.0
        while time.monotonic() < end:
            t0 = time.perf_counter()
            http.get(f"/api/v1/cameras/{camera_id}/set")
            phase.slowest_read_s = max(phase.slowest_read_s, time.perf_counter() - t0)
            if time.monotonic() >= next_list:
                http.get("/api/v1/sets")
                next_list = time.monotonic() + LIST_READ_PERIOD_S
            time.sleep(LIVE_READ_PERIOD_S)  # the dashboard's polling period


def _writer(url: str, camera_id: str, phase: Phase) -> None:
    t0 = time.perf_counter()
    r = httpx.put(f"{url}/api/v1/cameras/{camera_id}/set", json=closed_set(time.time_ns()), timeout=30)
    r.raise_for_status()
    phase.put_s = time.perf_counter() - t0
    phase.persisted = r.json()["persisted"]


def run_phase(url: str, db: Path | None, jpegs: list[bytes], *, seconds: float = 3.0, cameras: int = 2,
              fps: float = 30.0, first_seq: int = 0) -> Phase:
    """One phase against the running hub at ``url``: locked when ``db`` (the hub's SQLite file) is
    given. Returns when the phase and the worker's PUT are over."""
    phase, lock = Phase(), threading.Lock()
    blocker = None
    if db is not None:
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
    try:
        start = time.monotonic() + 0.1
        end = start + seconds
        threads = [threading.Thread(target=_camera, name=f"cam{i}",
                                    args=(url, f"cam{i}", jpegs, fps, start + i / (fps * cameras), end,
                                          first_seq, phase, lock)) for i in range(cameras)]
        threads.append(threading.Thread(target=_reader, args=(url, "cam0", end, phase), name="reader"))
        writer = threading.Thread(target=_writer, args=(url, "cam0", phase), name="writer")
        for t in threads:
            t.start()
        writer.start()
        for t in threads:
            t.join(seconds + 30)
    finally:
        if blocker is not None:
            blocker.execute("ROLLBACK")
            blocker.close()
    writer.join(30)
    return phase


def start_hub(db: Path) -> tuple[str, subprocess.Popen]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "FORMSYNC_HUB_DB_PATH": str(db)}
    log = tempfile.TemporaryFile()
    argv = [sys.executable, "fastapi_server.py", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning"]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    wait_healthy(url, proc, log)
    return url, proc


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=3.0, help="length of each phase, s")
    p.add_argument("--cameras", type=int, default=2)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    jpegs = load_jpegs(count=30)
    with tempfile.TemporaryDirectory(prefix="formsync-setlock-") as tmp:
        db = Path(tmp) / "hub.db"
        url, proc = start_hub(db)
        phases: dict[str, list[Phase]] = {"free": [], "locked": []}
        try:
            seq = 0
            for _ in range(args.rounds):
                for name in ("free", "locked"):
                    phases[name].append(run_phase(url, db if name == "locked" else None, jpegs,
                                                  seconds=args.seconds, cameras=args.cameras, fps=args.fps,
                                                  first_seq=seq))
                    seq += int(args.seconds * args.fps) + 10
        finally:
            stop_process(proc)
    out = {}
    for name, runs in phases.items():
        merged = Phase(latencies=[x for r in runs for x in r.latencies],
                       refused=[x for r in runs for x in r.refused],
                       slowest_read_s=max(r.slowest_read_s for r in runs),
                       put_s=max(r.put_s or 0 for r in runs), persisted=all(r.persisted for r in runs))
        out[name] = merged.summary()
    locked = out["locked"]
    out["target_met"] = locked["refused"] == 0 and locked["p99_ms"] < TARGET_P99_MS
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"{args.rounds} rounds x {args.seconds:g} s per phase, "
              f"{args.cameras} cameras x {args.fps:g} fps")
        print(f"{'phase':8} {'uploads':>8} {'refused':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
              f"{'live read max ms':>17} {'PUT s':>6} persisted")
        for name in ("free", "locked"):
            s = out[name]
            print(f"{name:8} {s['uploads']:8d} {s['refused']:8d} {s['p50_ms']:8.2f} {s['p99_ms']:8.2f} "
                  f"{s['max_ms']:8.2f} {s['slowest_live_read_ms']:17.2f} {s['put_s']:6.2f} {s['persisted']}")
        print(f"target (locked: p99 < {TARGET_P99_MS:g} ms, nothing refused): "
              f"{'met' if out['target_met'] else 'NOT met'}")
    return 0 if out["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
