"""What references cost at the hub and in a worker. Prints figures; nothing is asserted.

- upload: ``PUT /api/v1/references/{name}`` of the default references' bundles (what a worker sends
  to a hub without them, and after every build), MB and ms each: the hub checks the whole bundle
  and writes it before answering;
- refresh: a worker's ``WorkerReferences.refresh`` against that hub, cold (every reference's data
  downloaded and its frame features recomputed) and warm (nothing changed: metadata only), ms;
- pictures: ``GET .../frames/{seq}.jpg`` as the Coach page's poller fetches the reference frame
  matched to each result, not cached, p50 / p95 ms over R requests;
- build: a reference job from upload to ``done`` for a clip whose poses are in the pose cache
  (``--build``; replays the poses and redraws every picture), s.

A real hub (uvicorn on loopback) with its embedded store in a temporary folder, the real
default references (built into the session library first when missing).

    .venv/bin/python -m bench.references
    .venv/bin/python -m bench.references --requests 500 --build --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from analysis.paths import DEFAULT_REFERENCES, squat_dir
from analysis.reference import ReferenceLibrary
from analysis.worker_references import WorkerReferences
from formsync.hub_client import HubClient, open_session
from formsync.reference_bundle import pack_folder
from tests.support import RunningHub, wait_until

BUILD_CLIP = "side_bodyweight_intellifit1.mp4"


def upload(hub: RunningHub, library: ReferenceLibrary) -> list[dict]:
    rows = []
    with httpx.Client(base_url=hub.url, timeout=60) as http:
        for name, _ in DEFAULT_REFERENCES.values():
            bundle = pack_folder(library.path(name))
            started = time.perf_counter()
            r = http.put(f"/api/v1/references/{name}", content=bundle, headers={"Content-Type": "application/zip"})
            took = (time.perf_counter() - started) * 1e3
            r.raise_for_status()
            rows.append({"name": name, "mb": round(len(bundle) / 1e6, 2), "pictures": r.json()["pictures"],
                         "ms": round(took, 1)})
    return rows


async def refresh(hub_url: str) -> dict[str, float]:
    references = WorkerReferences()
    async with open_session(None, 30) as session:
        client = HubClient(session, hub_url)
        started = time.perf_counter()
        await references.refresh(client)
        cold = (time.perf_counter() - started) * 1e3
        started = time.perf_counter()
        await references.refresh(client)
        warm = (time.perf_counter() - started) * 1e3
    return {"cold_ms": round(cold, 1), "warm_ms": round(warm, 2)}


def pictures(hub_url: str, requests: int) -> dict[str, float]:
    with httpx.Client(base_url=hub_url) as http:
        meta = http.get("/api/v1/references/default").json()
        seqs = list(range(meta["reps"][0]["start"], meta["reps"][0]["end"] + 1))
        times = []
        for k in range(requests):
            started = time.perf_counter()
            http.get(f"/api/v1/references/default/frames/{seqs[k % len(seqs)]}.jpg").raise_for_status()
            times.append((time.perf_counter() - started) * 1e3)
    p50, p95 = np.percentile(times, [50, 95])
    return {"requests": requests, "p50_ms": round(float(p50), 2), "p95_ms": round(float(p95), 2)}


def build(hub: RunningHub) -> dict[str, float]:
    from analysis.worker import AnalysisWorker

    class Idle:
        def analyze(self, image_bgr, *, seq, capture_time_ns):
            return {"pose_found": False, "rep_count": 0, "rep_phase": "unknown", "faults": []}

        def close(self) -> None:
            pass

    worker = AnalysisWorker(hub.url, lambda cam: Idle(), worker_id="bench", build_references=True,
                            spool_dir=Path(tempfile.mkdtemp()))
    stop = threading.Event()

    def run() -> None:
        async def main() -> None:
            stopping = asyncio.Event()
            asyncio.get_running_loop().run_in_executor(None, stop.wait).add_done_callback(lambda _: stopping.set())
            await worker.run(stopping)

        asyncio.run(main())

    thread = threading.Thread(target=run, name="bench-worker")
    thread.start()
    try:
        wait_until(worker.connected.is_set, 30)
        video = (squat_dir() / BUILD_CLIP).read_bytes()
        started = time.perf_counter()
        job = httpx.post(f"{hub.url}/api/v1/reference-jobs", params={"name": "bench", "source": BUILD_CLIP},
                         content=video, timeout=60).json()

        def ended():
            state = httpx.get(f"{hub.url}/api/v1/reference-jobs/{job['job_id']}").json()
            return state if state["state"] in ("done", "failed") else None

        final = wait_until(ended, 300, 0.05)
        took = time.perf_counter() - started
    finally:
        stop.set()
        thread.join(30)
    return {"clip": BUILD_CLIP, "state": final["state"] if final else "timeout",
            "frames": final["frames_done"] if final else None, "s": round(took, 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.references", description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=200, help="picture requests timed")
    p.add_argument("--build", action="store_true", help="also time a build job (needs the pose cache to be quick)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if not squat_dir().exists():
        print(f"footage not found at {squat_dir()} (set FORMSYNC_DATA_DIR)", file=sys.stderr)
        return 2
    library = ReferenceLibrary()
    library.ensure_defaults()
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp, RunningHub(db_path=str(Path(tmp) / "hub.db")) as hub:
        out["upload"] = upload(hub, library)
        out["refresh"] = asyncio.run(refresh(hub.url))
        out["pictures"] = pictures(hub.url, args.requests)
        if args.build:
            out["build"] = build(hub)
    if args.json:
        print(json.dumps(out))
        return 0
    for row in out["upload"]:
        print(f"upload {row['name']:<16} {row['mb']:6.2f} MB, {row['pictures']} pictures: {row['ms']:7.1f} ms")
    r = out["refresh"]
    print(f"worker refresh (3 references): cold {r['cold_ms']:.1f} ms, warm {r['warm_ms']:.2f} ms")
    q = out["pictures"]
    print(f"reference picture GET x{q['requests']}: p50 {q['p50_ms']:.2f} ms, p95 {q['p95_ms']:.2f} ms")
    if "build" in out:
        b = out["build"]
        print(f"build job {b['clip']} ({b['frames']} frames): {b['state']} in {b['s']:.2f} s from upload")
    return 0


if __name__ == "__main__":
    sys.exit(main())
