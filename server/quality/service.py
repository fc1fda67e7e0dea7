"""The hub side of adaptive quality: signals per camera, the controllers' ticks, and the targets
upload answers carry.

Frames feed ``observe`` on the ingest path (O(1): a deque append). Every ``interval_s`` ``tick``
reads the analysis results (the workers' cumulative ``skipped_frames``) and the host CPU, steps each
camera's ``CameraController`` and republishes its target. A camera is controlled by the hub it
uploads to; with several hubs sharing Redis the results it reads are every hub's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import numpy as np

from server.background import background
from server.quality.policy import CameraController, QualityPolicy, Signals
from server.results import LatestResults
from server.shared_state.connection import REDIS_DOWN

log = logging.getLogger(__name__)

FORGET_AFTER_S = 60.0
"""A camera that sent nothing this long loses its controller: it starts afresh at its own rate."""


@dataclass
class _Camera:
    controller: CameraController
    declared_fps: float | None = None
    frames: int = 0
    last_frame_s: float = 0.0
    latencies: deque = field(default_factory=deque)  # (monotonic s, capture-to-hub ms)
    # (monotonic s, frames, worker id, its skipped_frames) at each tick with a fresh result
    skips: deque = field(default_factory=deque)
    target: dict | None = None
    target_json: str = "null"


class AdaptiveQuality:
    """Args:
        policy: the controller's limits.
        results: the hub's latest analysis results (where ``skipped_frames`` comes from).
        cpu_percent: host CPU busy share now, 0-100 or None (blocking: called in a thread).
        analysis_stale_after_s: a result older than this says nothing about the camera's analysis.
        default_camera_fps: the rate of a camera that declares none, frames/s (as the upload limit).
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(self, policy: QualityPolicy, results: LatestResults,
                 cpu_percent: Callable[[], float | None] = lambda: None, *, interval_s: float = 1.0,
                 analysis_stale_after_s: float = 2.0, default_camera_fps: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.default_camera_fps = default_camera_fps
        self.policy = policy
        self.results = results
        self.cpu_percent = cpu_percent
        self.interval_s = interval_s
        self.analysis_stale_after_ns = int(analysis_stale_after_s * 1e9)
        self.clock = clock
        self._cameras: dict[str, _Camera] = {}

    def observe(self, camera_id: str, declared_fps: float | None, capture_time_ns: int, receive_ns: int) -> None:
        """One accepted frame (on the hub's loop)."""
        now = self.clock()
        declared_fps = declared_fps or self.default_camera_fps
        cam = self._cameras.get(camera_id)
        if cam is None:
            cam = self._cameras[camera_id] = _Camera(CameraController.start(self.policy, declared_fps, now))
            self._publish(camera_id, cam, time.time_ns())
        cam.declared_fps = declared_fps
        cam.frames += 1
        cam.last_frame_s = now
        cam.latencies.append((now, (receive_ns - capture_time_ns) / 1e6))

    def target(self, camera_id: str) -> dict | None:
        """The camera's target as the upload answer's ``target`` (``QualityTarget`` fields), or None."""
        cam = self._cameras.get(camera_id)
        return cam.target if cam is not None else None

    def target_json(self, camera_id: str) -> str:
        """The same as JSON text (``null`` when none), for the WebSocket ack."""
        cam = self._cameras.get(camera_id)
        return cam.target_json if cam is not None else "null"

    async def tick(self) -> None:
        """Step every camera's controller once from the latest signals."""
        now = self.clock()
        cpu = await asyncio.to_thread(self.cpu_percent)
        results = {r.camera_id: r for r in await self.results.all()}
        now_ns = time.time_ns()
        for camera_id, cam in list(self._cameras.items()):
            if now - cam.last_frame_s > FORGET_AFTER_S:
                del self._cameras[camera_id]
                continue
            signals = Signals(skipped_share=self._skipped_share(cam, results.get(camera_id), now, now_ns),
                              ingest_p95_ms=self._latency_p95(cam, now), cpu_percent=cpu)
            tier_before = cam.controller.tier
            if cam.controller.step(signals, now, cam.declared_fps):
                self._publish(camera_id, cam, now_ns)
                t = cam.target
                # The fps moves every few seconds in the AIMD sawtooth; a new tier is worth a line.
                log.log(logging.INFO if t["tier"] != tier_before else logging.DEBUG,
                        "camera %s: target %.1f fps, tier %d (%d px, q%d): %s", camera_id, t["fps"], t["tier"],
                        t["width"], t["jpeg_quality"], t["reason"])
            elif cam.target is not None and cam.target["reason"] != cam.controller.reason:
                self._publish(camera_id, cam, cam.target["since_ns"])

    def _skipped_share(self, cam: _Camera, item, now: float, now_ns: int) -> float | None:
        if item is None or now_ns - item.hub_receive_time_ns > self.analysis_stale_after_ns:
            cam.skips.clear()
            return None
        worker, skipped = item.result.get("worker_id"), item.result.get("skipped_frames", 0)
        cam.skips.append((now, cam.frames, worker, skipped))
        while cam.skips and now - cam.skips[0][0] > self.policy.window_s:
            cam.skips.popleft()
        # Counters are the worker's own: another worker (or a restarted one) counts from 0.
        while cam.skips and (cam.skips[0][2] != worker or cam.skips[0][3] > skipped):
            cam.skips.popleft()
        t0, frames0, _, skipped0 = cam.skips[0]
        sent = cam.frames - frames0
        if now - t0 < self.policy.window_s / 2 or sent < 5:
            return None  # too little history to judge
        return min(1.0, (skipped - skipped0) / sent)

    def _latency_p95(self, cam: _Camera, now: float) -> float | None:
        lat = cam.latencies
        while lat and now - lat[0][0] > self.policy.window_s:
            lat.popleft()
        if len(lat) < 5:
            return None
        return float(np.percentile([ms for _, ms in lat], 95))

    def _publish(self, camera_id: str, cam: _Camera, since_ns: int) -> None:
        c, tier = cam.controller, self.policy.tiers[cam.controller.tier]
        cam.target = {"tier": c.tier, "fps": c.fps, "width": tier.width, "jpeg_quality": tier.jpeg_quality,
                      "reason": c.reason[:200], "since_ns": since_ns}
        cam.target_json = json.dumps(cam.target, separators=(",", ":"))

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.tick()
            except REDIS_DOWN as exc:  # results unreadable: the targets hold until Redis is back
                log.warning("adaptive quality not updated, Redis unavailable: %s", exc)
            except Exception:  # a bug here must not freeze every camera's target for good
                log.exception("adaptive quality tick failed")


@contextlib.asynccontextmanager
async def run_adaptive_quality(quality: AdaptiveQuality | None) -> AsyncIterator[None]:
    """Run ``quality``'s ticks for the lifespan (nothing when adaptive quality is off)."""
    if quality is None:
        yield
        return
    async with background(quality.run(), "adaptive-quality"):
        yield
