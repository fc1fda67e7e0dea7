"""Analysis worker process: follows the hub's events and analyses only each camera's newest frame.

``python -m analysis.worker --hub http://127.0.0.1:8000``

Inference never runs on the hub's event loop (it is a separate process) nor on this worker's
loop: each camera has one analysis thread (``analysis:<id>``) owning its stateful analyser. When
analysis is slower than the camera, frames that arrived meanwhile are skipped and counted; there is
never a backlog (at most one frame per camera is in analysis, and the next one fetched is the newest).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import cv2
import numpy as np

from clients.retry import reconnect_delays

log = logging.getLogger("formsync.worker")


class FrameAnalyzer(Protocol):
    """Stateful per-camera analyser. Called from the camera's analysis thread only."""

    def analyze(self, image_bgr: np.ndarray, *, seq: int, capture_time_ns: int) -> dict[str, Any]:
        """Return the result fields of ``server.schemas.AnalysisIn`` except ``processing_ms``,
        ``skipped_frames``, ``worker_id``, ``seq``, ``capture_time_ns`` and ``source_frame``."""

    def close(self) -> None: ...


# analysis.faults grades minor/major; the hub's wire format uses the alert levels of the console.
_SEVERITY = {"minor": "warning", "major": "critical"}
_VIEWS = {"front", "side", "oblique"}


def to_wire(result: dict[str, Any], rep_scores: list[float]) -> dict[str, Any]:
    """Map ``AnalysisResult.to_dict()`` onto the hub's ``AnalysisIn`` fields (the worker adds
    seq, times, skipped frames and its id). ``rep_scores`` collects per-rep scores across calls."""
    rep = result.get("rep")
    if rep and rep.get("score") is not None:
        rep_scores.append(float(rep["score"]))
    angles = {k: float(v) for k, v in (result.get("angles") or {}).items() if v is not None and v == v}
    return {
        "pose_found": bool(result.get("pose_found")),
        "landmarks": result.get("landmarks"),
        "world_landmarks": result.get("world_landmarks"),
        "angles": angles,
        "view": result.get("view") if result.get("view") in _VIEWS else "unknown",
        "score": result.get("score"),
        "rep": {"count": int(result.get("rep_count", 0)), "phase": str(result.get("rep_phase", "unknown"))[:32],
                "rep_scores": rep_scores[-100:]},
        "faults": [{"code": f["name"], "severity": _SEVERITY.get(f.get("severity"), "info"),
                    "cue": f.get("cue", "")[:200], "view": f.get("view"), "value": f.get("value")}
                   for f in result.get("faults", [])][:32],
    }


@dataclass
class CameraTrack:
    """Scheduling state of one camera in the worker (touched on the worker's event loop only)."""

    camera_id: str
    executor: ThreadPoolExecutor
    analyzer: FrameAnalyzer | None = None
    busy: bool = False
    events_since_start: int = 0
    analysed: int = 0
    skipped: int = 0
    last_seq: int = -1
    latencies_ms: list[float] = field(default_factory=list)
    rep_scores: list[float] = field(default_factory=list)
    rejected: int = 0


class AnalysisWorker:
    """Args:
        hub_url: hub base URL.
        make_analyzer: builds a fresh analyser for a camera id (called on that camera's thread).
        worker_id: reported with every result.
    """

    def __init__(self, hub_url: str, make_analyzer: Callable[[str], FrameAnalyzer], worker_id: str = "worker") -> None:
        self.hub_url = hub_url.rstrip("/")
        self.make_analyzer = make_analyzer
        self.worker_id = worker_id
        self.tracks: dict[str, CameraTrack] = {}
        self.connected = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()

    async def run(self, stop: asyncio.Event) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            follower = asyncio.create_task(self._follow(http))
            await stop.wait()
            follower.cancel()
            for t in list(self._tasks):
                t.cancel()
            await asyncio.gather(follower, *self._tasks, return_exceptions=True)
        for track in self.tracks.values():
            track.executor.submit(self._close_analyzer, track)
            track.executor.shutdown(wait=True)

    @staticmethod
    def _close_analyzer(track: CameraTrack) -> None:
        if track.analyzer is not None:
            track.analyzer.close()

    async def _follow(self, http: aiohttp.ClientSession) -> None:
        url = self.hub_url.replace("http", "ws", 1) + "/api/v1/events?types=frame,camera_stale"
        delays = None
        while True:
            try:
                async with http.ws_connect(url, heartbeat=10) as ws:
                    log.info("following %s", self.hub_url)
                    delays = None
                    self.connected.set()
                    async for msg in ws:
                        if msg.type is aiohttp.WSMsgType.TEXT:
                            self._on_event(json.loads(msg.data), http)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                if delays is None:
                    log.warning("hub %s unavailable (%s); retrying with backoff", self.hub_url, exc)
            self.connected.clear()
            delays = delays or reconnect_delays()
            await asyncio.sleep(next(delays))

    def _on_event(self, event: dict, http: aiohttp.ClientSession) -> None:
        if event.get("type") != "frame":
            return
        cam = event["camera_id"]
        track = self.tracks.get(cam)
        if track is None:
            track = CameraTrack(cam, ThreadPoolExecutor(1, thread_name_prefix=f"analysis:{cam}"))
            self.tracks[cam] = track
        track.events_since_start += 1
        if not track.busy:
            track.busy = True
            task = asyncio.create_task(self._drain(track, http), name=f"analyse:{cam}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _drain(self, track: CameraTrack, http: aiohttp.ClientSession) -> None:
        """Analyse the newest frame until no new frame arrived during the last analysis."""
        try:
            while track.events_since_start:
                # Every frame announced before this fetch but the newest is skipped.
                track.skipped += track.events_since_start - 1
                track.events_since_start = 0
                try:
                    await self._analyse_latest(track, http)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    log.warning("[%s] hub request failed: %s", track.camera_id, exc)
                    return
                except Exception:
                    log.exception("[%s] analysis failed", track.camera_id)
                    return
        finally:
            track.busy = False

    async def _analyse_latest(self, track: CameraTrack, http: aiohttp.ClientSession) -> None:
        async with http.get(f"{self.hub_url}/api/v1/cameras/{track.camera_id}/frame") as resp:
            if resp.status != 200:
                return
            jpeg = await resp.read()
            seq = int(resp.headers["X-Frame-Seq"])
            capture_time_ns = int(resp.headers["X-Capture-Time-Ns"])
            source = resp.headers.get("X-Source-Frame")
        if seq == track.last_seq:
            return
        loop = asyncio.get_running_loop()
        fields, processing_ms = await loop.run_in_executor(
            track.executor, self._analyse_on_thread, track, jpeg, seq, capture_time_ns)
        track.last_seq = seq
        track.analysed += 1
        body = {**fields, "seq": seq, "capture_time_ns": capture_time_ns,
                "source_frame": int(source) if source is not None else None,
                "processing_ms": round(processing_ms, 3), "skipped_frames": track.skipped,
                "worker_id": self.worker_id}
        async with http.post(f"{self.hub_url}/api/v1/cameras/{track.camera_id}/analysis", json=body) as resp:
            if resp.status == 201:
                track.latencies_ms.append((await resp.json())["latency_ms"])
                del track.latencies_ms[:-300]
            elif resp.status != 409:  # 409: a newer result is already there, nothing lost
                track.rejected += 1
                if track.rejected == 1:  # once, not per frame
                    log.warning("[%s] result rejected: %s %.500s", track.camera_id, resp.status, await resp.text())

    def _analyse_on_thread(self, track: CameraTrack, jpeg: bytes, seq: int, capture_time_ns: int):
        started = time.perf_counter()
        if track.analyzer is None:
            track.analyzer = self.make_analyzer(track.camera_id)
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"frame {seq} does not decode")
        result = track.analyzer.analyze(image, seq=seq, capture_time_ns=capture_time_ns)
        return to_wire(result, track.rep_scores), (time.perf_counter() - started) * 1e3


def default_analyzer(camera_id: str) -> FrameAnalyzer:
    # Imported here: MediaPipe and the reference library load only in the worker process.
    from analysis.reference import ReferenceLibrary
    from analysis.session import PoseAnalyzer

    return PoseAnalyzer(camera_id, reference=ReferenceLibrary().load_default())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m analysis.worker", description="FormSync analysis worker")
    p.add_argument("--hub", default="http://127.0.0.1:8000", help="hub base URL")
    p.add_argument("--worker-id", default="worker", help="name reported with results")
    p.add_argument("--status-interval", type=float, default=5.0, help="seconds between status lines")
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(message)s")
    worker = AnalysisWorker(args.hub, default_analyzer, args.worker_id)

    async def amain() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for s in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(s, stop.set)

        async def status() -> None:
            while True:
                await asyncio.sleep(args.status_interval)
                for t in worker.tracks.values():
                    lat = np.percentile(t.latencies_ms, [50, 95]) if t.latencies_ms else (float("nan"),) * 2
                    log.info("[%s] analysed %d, skipped %d, latency p50 %.0f ms p95 %.0f ms",
                             t.camera_id, t.analysed, t.skipped, *lat)

        reporter = asyncio.create_task(status())
        await worker.run(stop)
        reporter.cancel()

    asyncio.run(amain())
    return 0


if __name__ == "__main__":
    sys.exit(main())
