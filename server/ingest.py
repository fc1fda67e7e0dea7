"""Accepting frames into the store and telling subscribers, shared by the HTTP and WS routes."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from formsync.wire.events import CameraOnlineEvent, CameraStaleEvent, FrameEvent
from server.errors import ApiError
from server.events import EventBus
from server.jpeg import jpeg_size
from server.limits import UploadLimits
from server.live_sync import LiveSync
from server.monitoring.metrics import HubMetrics
from server.quality.service import AdaptiveQuality
from server.shared_state.connection import REDIS_DOWN
from server.store import CameraStatus, Frame, FrameStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FrameRef:
    """A frame as a ``frame`` event names it (no JPEG): what the live synchroniser matches."""

    camera_id: str
    seq: int
    capture_time_ns: int
    hub_receive_time_ns: int
    source_frame: int | None = None


class IngestService:
    """Validates and stores frames, and emits ``frame`` / ``camera_online`` / ``camera_stale``.

    Runs on the hub's event loop (``accept`` awaits only the store: header-only JPEG parsing).

    With a store several hubs share (``shared=True``), each hub follows every camera from the
    ``frame`` events all hubs publish (``follow``), whichever hub took the frame: its own
    subscribers get ``camera_online``/``camera_stale`` and ``sync_set`` from it, once per hub.
    """

    def __init__(self, store: FrameStore, bus: EventBus, *, max_frame_bytes: int, stale_after_s: float,
                 live_sync: LiveSync | None = None, metrics: HubMetrics | None = None,
                 limits: UploadLimits | None = None, shared: bool = False,
                 quality: AdaptiveQuality | None = None) -> None:
        self.store = store
        self.quality = quality
        self.shared = shared
        self.limits = limits
        self.metrics = metrics
        self.bus = bus
        self.live_sync = live_sync
        self.max_frame_bytes = max_frame_bytes
        self.stale_after_ns = int(stale_after_s * 1e9)
        self._stale: set[str] = set()
        self._seen: dict[str, int] = {}  # last seq followed per camera
        # Each camera's last frame taken by this hub, for the capture-time check: no store read per
        # upload. A camera that moved to another hub meanwhile has a newer frame there; an older one
        # here can only let a too-old frame through, never refuse a good one.
        self._heads: dict[str, Frame] = {}
        self.cameras_snapshot: list[CameraStatus] = []  # as of the last stale check, for sync readers
        self._store_down = False

    async def accept(self, camera_id: str, jpeg: bytes, *, seq: int, capture_time_ns: int,
               source_frame: int | None = None, clock_offset_ns: int | None = None,
               clock_uncertainty_ns: int | None = None, declared_fps: float | None = None) -> Frame:
        """Validate and store one frame; on any error nothing stored changes.

        Raises:
            ApiError: 413 over the size limit; 415/422 not a valid JPEG (see ``jpeg_size``);
                429 over the camera's upload rate, 422/409 capture time too far ahead / older
                than the ring (``server/limits.py``).
        """
        if self.limits is not None:
            try:
                self.limits.take(camera_id, declared_fps)
                self.limits.check_capture_time(camera_id, seq, capture_time_ns, time.time_ns(),
                                               self._heads.get(camera_id))
            except ApiError as err:
                if self.metrics is not None:
                    self.metrics.frame_rejected(camera_id, err.code)
                raise
        if len(jpeg) > self.max_frame_bytes:
            raise self.too_large(len(jpeg), camera_id)
        try:
            width, height = jpeg_size(jpeg)
        except ApiError as err:
            if self.metrics is not None:
                self.metrics.frame_rejected(camera_id, err.code)
            raise
        frame = Frame(
            camera_id=camera_id, seq=seq, capture_time_ns=capture_time_ns,
            hub_receive_time_ns=time.time_ns(), jpeg=jpeg, width=width, height=height,
            source_frame=source_frame, clock_offset_ns=clock_offset_ns,
            clock_uncertainty_ns=clock_uncertainty_ns,
        )
        result = await self.store.put(frame)
        self._heads[camera_id] = frame
        if self.quality is not None:
            self.quality.observe(camera_id, declared_fps, capture_time_ns, frame.hub_receive_time_ns)
        if not self.shared:
            self._observe(frame, result.is_new_camera, result.is_new_stream)
        if not result.announced:
            self.bus.emit(FrameEvent(camera_id=camera_id, seq=seq, capture_time_ns=capture_time_ns,
                                     hub_receive_time_ns=frame.hub_receive_time_ns, source_frame=source_frame))
        if not self.shared and self.live_sync is not None:
            self.live_sync.add(frame)
        if self.metrics is not None:
            self.metrics.frame_accepted(camera_id, capture_time_ns, frame.hub_receive_time_ns)
        return frame

    def follow(self, event: dict, deliver, *, sync: bool = True) -> None:
        """A ``frame`` event from any hub sharing the store: ``camera_online`` first if the camera is
        new or was stale, then ``deliver(event)`` to this hub's subscribers, then the live sync."""
        ref = FrameRef(camera_id=event["camera_id"], seq=event["seq"], capture_time_ns=event["capture_time_ns"],
                       hub_receive_time_ns=event["hub_receive_time_ns"], source_frame=event.get("source_frame"))
        prev = self._seen.get(ref.camera_id)
        self._observe(ref, prev is None, prev is not None and ref.seq <= prev)
        deliver(event)
        if sync and self.live_sync is not None:
            self.live_sync.add(ref)

    async def resync(self, deliver) -> None:
        """After missed ``frame`` events: each camera's newest frame as a ``frame`` event (from the
        store), followed like any other (the live sync skips them: it saw or lost the originals)."""
        for cam in await self.store.cameras():
            event = FrameEvent(camera_id=cam.camera_id, seq=cam.seq, capture_time_ns=cam.last_capture_time_ns,
                               hub_receive_time_ns=cam.last_receive_time_ns).model_dump(mode="json")
            self.follow(event, deliver, sync=False)

    def _observe(self, frame: Frame | FrameRef, is_new_camera: bool, is_new_stream: bool) -> None:
        camera_id = frame.camera_id
        self._seen[camera_id] = frame.seq
        if is_new_camera or camera_id in self._stale:
            self._stale.discard(camera_id)
            log.info("camera %s online", camera_id)
            self.bus.emit(CameraOnlineEvent(camera_id=camera_id, time_ns=frame.hub_receive_time_ns))
        if self.live_sync is not None:
            if is_new_camera or is_new_stream or camera_id not in self.live_sync.online:
                self.live_sync.set_online(camera_id, True)

    def too_large(self, size: int | None = None, camera_id: str | None = None) -> ApiError:
        """The 413 error for an oversized frame (counted as rejected when ``camera_id`` is given)."""
        if self.metrics is not None and camera_id is not None:
            self.metrics.frame_rejected(camera_id, "frame_too_large")
        return ApiError(413, "frame_too_large",
                        f"frame body exceeds the limit of {self.max_frame_bytes} bytes",
                        limit=self.max_frame_bytes, **({"size": size} if size is not None else {}))

    def is_online(self, last_receive_time_ns: int, now_ns: int) -> bool:
        return now_ns - last_receive_time_ns < self.stale_after_ns

    async def check_stale(self, now_ns: int | None = None) -> list[str]:
        """Mark cameras with no frame for ``stale_after_s`` as stale; returns the newly stale ids.

        Also refreshes ``cameras_snapshot``. Raises what the store raises when it cannot be reached.
        """
        cameras = await self.store.cameras()
        self.cameras_snapshot = cameras
        now_ns = time.time_ns() if now_ns is None else now_ns
        newly = []
        for cam in cameras:
            if cam.camera_id not in self._stale and not self.is_online(cam.last_receive_time_ns, now_ns):
                self._stale.add(cam.camera_id)
                newly.append(cam.camera_id)
                if self.live_sync is not None:
                    self.live_sync.set_online(cam.camera_id, False)
                log.info("camera %s stale", cam.camera_id)
                self.bus.emit(CameraStaleEvent(camera_id=cam.camera_id, time_ns=now_ns))
        return newly

    async def watch_stale(self, interval_s: float = 0.2) -> None:
        while True:
            try:
                await self.check_stale()
                if self._store_down:
                    self._store_down = False
                    log.info("frame store reachable again")
            except REDIS_DOWN as exc:  # once per outage, not five tracebacks a second
                if not self._store_down:
                    self._store_down = True
                    log.warning("frame store unreachable, stale checks paused: %s", exc)
            except Exception:  # a bug here must not stop the watcher for good
                log.exception("stale check failed")
            await asyncio.sleep(interval_s)
