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
import contextlib
import functools
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import cv2
import numpy as np
from pydantic import SecretStr

from analysis.sets import VIEWS, SetTracker, fault_to_wire, set_to_wire
from analysis.heartbeat import send_heartbeats
from clients.auth import WORKER_TOKEN_ENV, bearer, token_from_env
from clients.retry import reconnect_delays

log = logging.getLogger("formsync.worker")


class FrameAnalyzer(Protocol):
    """Stateful per-camera analyser. Called from the camera's analysis thread only."""

    def analyze(self, image_bgr: np.ndarray, *, seq: int, capture_time_ns: int) -> dict[str, Any]:
        """Return the result fields of ``server.schemas.AnalysisIn`` except ``processing_ms``,
        ``skipped_frames``, ``worker_id``, ``seq``, ``capture_time_ns`` and ``source_frame``."""

    def close(self) -> None: ...


class SetAnalyzer(FrameAnalyzer, Protocol):
    """A ``FrameAnalyzer`` that also keeps sets (``session.PoseAnalyzer``); the worker then reports
    each camera's sets to the hub (``analysis.sets``)."""

    def summary(self) -> dict[str, Any]: ...

    def start_new_set(self, reset_motion: bool = False) -> None: ...


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
        "view": result.get("view") if result.get("view") in VIEWS else "unknown",
        "score": result.get("score"),
        "reference_seq": result.get("reference_seq"),
        "rep": {"count": int(result.get("rep_count", 0)), "phase": str(result.get("rep_phase", "unknown"))[:32],
                "rep_scores": rep_scores[-100:]},
        "faults": [fault_to_wire(f) for f in result.get("faults", [])][:32],
        "gaze": result.get("gaze"),  # analysis.combined: already the hub's GazeOut shape
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
    sets: SetTracker | None = None
    last_capture_ns: int = 0
    outbox: list[dict] = field(default_factory=list)  # set bodies not yet accepted by the hub


class AnalysisWorker:
    """Args:
        hub_url: hub base URL.
        make_analyzer: builds a fresh analyser for a camera id (called on that camera's thread).
        worker_id: reported with every result.
        rest_s: pause that ends a set (``analysis.sets``), seconds of capture time.
        load_reference: name -> reference, for switching the answer sheet when the hub says so
            (``reference`` event); None ignores such events.
    """

    def __init__(self, hub_url: str, make_analyzer: Callable[[str], FrameAnalyzer], worker_id: str = "worker",
                 rest_s: float = 10.0, load_reference: Callable[[str], Any] | None = None,
                 token: SecretStr | str | None = None) -> None:
        self.hub_url = hub_url.rstrip("/")
        # Worker token (server/auth.py): default FORMSYNC_WORKER_TOKEN; sent on every request.
        self.token = token if token is not None else token_from_env(WORKER_TOKEN_ENV)
        self.make_analyzer = make_analyzer
        self.worker_id = worker_id
        self.rest_s = rest_s
        self.load_reference = load_reference
        self.reference_name: str | None = None
        self.tracks: dict[str, CameraTrack] = {}
        self.connected = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()

    async def run(self, stop: asyncio.Event) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10),
                                         headers=bearer(self.token)) as http:
            follower = asyncio.create_task(self._follow(http))
            await stop.wait()
            follower.cancel()
            for t in list(self._tasks):
                t.cancel()
            await asyncio.gather(follower, *self._tasks, return_exceptions=True)
            # Sets in progress are reported as ended by the shutdown rather than lost with it.
            loop = asyncio.get_running_loop()
            for track in self.tracks.values():
                track.outbox += await loop.run_in_executor(track.executor, self._close_set, track, "worker_stopped")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    await asyncio.wait_for(self._send_sets(track, http), 3)
        for track in self.tracks.values():
            track.executor.submit(self._close_analyzer, track)
            track.executor.shutdown(wait=True)

    @staticmethod
    def _close_analyzer(track: CameraTrack) -> None:
        if track.analyzer is not None:
            track.analyzer.close()

    async def _follow(self, http: aiohttp.ClientSession) -> None:
        types = "frame,camera_stale,reference,gaze_calibrate"
        url = self.hub_url.replace("http", "ws", 1) + "/api/v1/events?types=" + types
        delays = None
        while True:
            try:
                async with http.ws_connect(url, heartbeat=10) as ws:
                    log.info("following %s", self.hub_url)
                    delays = None
                    await self._sync_reference(http)
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

    async def _sync_reference(self, http: aiohttp.ClientSession) -> None:
        if self.load_reference is None:
            return
        async with http.get(f"{self.hub_url}/api/v1/reference") as resp:
            if resp.status == 200:
                self._use_reference((await resp.json()).get("name"))

    def _use_reference(self, name: str | None) -> None:
        if self.load_reference is None or not name or name == self.reference_name:
            return
        self.reference_name = name
        for track in self.tracks.values():
            track.executor.submit(self._apply_reference, track)
        log.info("scoring against reference %r", name)

    def _apply_reference(self, track: CameraTrack) -> None:
        """On the camera's thread: swap the analyser's answer sheet (if it has one)."""
        if self.reference_name is None or track.analyzer is None or not hasattr(track.analyzer, "use_reference"):
            return
        try:
            track.analyzer.use_reference(self.load_reference(self.reference_name))
        except (FileNotFoundError, ValueError) as exc:
            log.warning("[%s] reference %r unusable, keeping the current one: %s",
                        track.camera_id, self.reference_name, exc)

    def _on_event(self, event: dict, http: aiohttp.ClientSession) -> None:
        kind = event.get("type")
        if kind == "reference":
            self._use_reference(event.get("name"))
            return
        if kind == "gaze_calibrate":
            self._gaze_calibrate(event)
            return
        if kind == "camera_stale":
            track = self.tracks.get(event.get("camera_id", ""))
            if track is not None:
                self._spawn(self._end_set(track, "camera_stale", http), f"set-end:{track.camera_id}")
            return
        if kind != "frame":
            return
        cam = event["camera_id"]
        track = self.tracks.get(cam)
        if track is None:
            track = CameraTrack(cam, ThreadPoolExecutor(1, thread_name_prefix=f"analysis:{cam}"))
            self.tracks[cam] = track
        track.events_since_start += 1
        if not track.busy:
            track.busy = True
            self._spawn(self._drain(track, http), f"analyse:{cam}")

    def _gaze_calibrate(self, event: dict) -> None:
        """Start or reset the camera's gaze calibration on its analysis thread (server/routes/gaze.py)."""
        track = self.tracks.get(event.get("camera_id", ""))
        if track is None:
            log.info("gaze calibration for %r ignored: not analysing that camera", event.get("camera_id"))
            return
        track.executor.submit(self._gaze_calibrate_on_thread, track, event)

    @staticmethod
    def _gaze_calibrate_on_thread(track: CameraTrack, event: dict) -> None:
        analyzer = track.analyzer
        try:
            if analyzer is None or not hasattr(analyzer, "start_calibration"):
                log.warning("[%s] gaze calibration ignored: gaze is off", track.camera_id)
            elif event.get("action") == "reset":
                analyzer.reset_target()
            else:
                analyzer.start_calibration(event.get("duration_s"), event.get("request_id"))
        except Exception:  # a future nobody awaits would swallow it
            log.exception("[%s] gaze calibration failed", track.camera_id)

    def _spawn(self, coro, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _end_set(self, track: CameraTrack, reason: str, http: aiohttp.ClientSession) -> None:
        loop = asyncio.get_running_loop()
        track.outbox += await loop.run_in_executor(track.executor, self._close_set, track, reason)
        await self._send_sets(track, http)

    async def _send_sets(self, track: CameraTrack, http: aiohttp.ClientSession) -> None:
        """PUT queued set bodies in order; a failure keeps them (and later ones) for the next try."""
        while track.outbox:
            body = track.outbox[0]
            async with http.put(f"{self.hub_url}/api/v1/cameras/{track.camera_id}/set", json=body) as resp:
                if resp.status >= 500:
                    return
                if resp.status != 200:  # a bad body never gets better by resending it
                    log.warning("[%s] set rejected: %s %.500s", track.camera_id, resp.status, await resp.text())
            track.outbox.pop(0)

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
        source_frame = int(source) if source is not None else None
        loop = asyncio.get_running_loop()
        fields, processing_ms = await loop.run_in_executor(
            track.executor, self._analyse_on_thread, track, jpeg, seq, capture_time_ns, source_frame)
        track.last_seq = seq
        track.analysed += 1
        body = {**fields, "seq": seq, "capture_time_ns": capture_time_ns,
                "source_frame": source_frame,
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
        if track.outbox:
            await self._send_sets(track, http)

    def _analyse_on_thread(self, track: CameraTrack, jpeg: bytes, seq: int, capture_time_ns: int,
                           source_frame: int | None = None):
        started = time.perf_counter()
        if track.analyzer is None:
            track.analyzer = self.make_analyzer(track.camera_id)
            self._apply_reference(track)
            if hasattr(track.analyzer, "start_new_set"):
                track.sets = SetTracker(track.camera_id, self.rest_s)
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"frame {seq} does not decode")
        sets = track.sets
        if sets is not None and sets.source_restarted(source_frame):
            track.outbox += self._close_set(track, "source_restart")
        result = track.analyzer.analyze(image, seq=seq, capture_time_ns=capture_time_ns)
        track.last_capture_ns = capture_time_ns
        if sets is not None:
            completed = result.get("rep") is not None
            in_rep = result.get("rep_phase") in ("down", "bottom", "up")
            if completed:
                track.outbox.append(self._set_body(track, "open", None))
            if sets.rest_elapsed(capture_time_ns, int(result.get("rep_count", 0)), in_rep, completed):
                track.outbox += self._close_set(track, "rest")
        return to_wire(result, track.rep_scores), (time.perf_counter() - started) * 1e3

    def _set_body(self, track: CameraTrack, status: str, reason: str | None) -> dict:
        ref = getattr(track.analyzer, "reference", None)
        return set_to_wire(track.sets, track.analyzer.summary(), status=status, end_reason=reason,
                           ended_at_ns=track.last_capture_ns, reference=getattr(ref, "name", None))

    def _close_set(self, track: CameraTrack, reason: str) -> list[dict]:
        """On the camera's thread: end the current set; its closed body if it had reps."""
        if track.sets is None or track.analyzer is None:
            return []
        body = self._set_body(track, "closed", reason) if track.analyzer.summary()["reps"] else None
        track.analyzer.start_new_set(reset_motion=reason == "source_restart")
        track.sets.next_set()
        track.rep_scores.clear()
        return [body] if body is not None else []


_REFERENCE_LOCK = threading.Lock()


def load_reference(name: str | None = None):
    """A reference from the library (None: the default, built first if missing). References are
    read-only once loaded, so the cameras' threads share one copy; the lock makes the first
    cameras wait for one build instead of each building the default at once."""
    with _REFERENCE_LOCK:
        return _load_reference(name)


@functools.lru_cache(maxsize=8)
def _load_reference(name: str | None):
    # Imported here: the reference library loads only in the worker process.
    from analysis.reference import ReferenceLibrary

    lib = ReferenceLibrary()
    return lib.load_default() if name is None else lib.load(name)


def default_analyzer(camera_id: str, gaze: bool = True, gaze_fps: float = 15.0) -> FrameAnalyzer:
    """Pose (scored against the default reference) plus, unless ``gaze=False``, gaze at most
    ``gaze_fps`` times a second (``analysis.combined.CombinedAnalyzer``)."""
    from analysis.combined import CombinedAnalyzer
    from analysis.gaze.analyzer import GazeAnalyzer
    from analysis.session import PoseAnalyzer

    try:
        reference = load_reference()
    except (FileNotFoundError, ValueError) as exc:
        # Reps and faults need no answer sheet; only the scores do.
        log.warning("[%s] no default reference (%s): reps and faults only, no scores", camera_id, exc)
        reference = None
    pose = PoseAnalyzer(camera_id, reference=reference)
    return CombinedAnalyzer(pose, GazeAnalyzer(camera_id), gaze_fps) if gaze else pose


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m analysis.worker", description="FormSync analysis worker",
                                epilog="A hub that requires tokens takes the worker token from FORMSYNC_WORKER_TOKEN.")
    p.add_argument("--hub", default="http://127.0.0.1:8000", help="hub base URL")
    p.add_argument("--worker-id", default="worker", help="name reported with results")
    p.add_argument("--status-interval", type=float, default=5.0, help="seconds between status lines")
    p.add_argument("--rest-s", type=float, default=10.0, help="a pause this long (s) ends a set")
    p.add_argument("--no-gaze", action="store_true", help="pose only: no face mesh, gaze or attention")
    p.add_argument("--gaze-fps", type=float, default=15.0,
                   help="most gaze analyses per camera and second; frames between carry the last (0: every frame)")
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(message)s")
    make = functools.partial(default_analyzer, gaze=not args.no_gaze, gaze_fps=args.gaze_fps)
    worker = AnalysisWorker(args.hub, make, args.worker_id, rest_s=args.rest_s,
                            load_reference=load_reference)

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
        beats = asyncio.create_task(send_heartbeats(worker))  # monitoring: host, process, per-camera fps
        await worker.run(stop)
        reporter.cancel()
        beats.cancel()
        await asyncio.gather(beats, return_exceptions=True)  # lets it tell the hub the stop is deliberate

    asyncio.run(amain())
    return 0


if __name__ == "__main__":
    sys.exit(main())
