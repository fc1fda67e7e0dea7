"""The browser as a FormSync camera: streamlit-webrtc's video sink stamps each frame on arrival and
hands it to a bounded sender that uploads it as camera ``browser-<name>``. Nothing goes back over
WebRTC: the page previews the camera as the hub has it, through the live view (skeleton drawn in
the browser), like every other camera.

The sender is the camera client's own ``CameraWorker`` (thread ``camera:<id>`` with its asyncio loop
and aiohttp session, NTP-style clock offset to the hub, HTTP uploads, backoff) fed by a
``clients.push.PushSource`` instead of an OpenCV source, plus the client's heartbeat thread. No
Streamlit import here: the page owns one ``BrowserCamera`` per session and passes its bound methods
to ``webrtc_streamer``'s sink, so nothing is shared between sessions.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from dataclasses import dataclass

import av

from clients.camera import CameraWorker
from clients.config import CameraConfig, ClientConfig
from clients.heartbeat import CameraRates
from clients.push import DEFAULT_IDLE_TIMEOUT_S, PushSource
from formsync.heartbeat import HeartbeatSender, HeartbeatSource, HeartbeatThread, process_id

log = logging.getLogger("formsync.dashboard.browser_camera")

PREFIX = "browser-"
NAME_PATTERN = re.compile(rf"^[A-Za-z0-9_-]{{1,{64 - len(PREFIX)}}}$")
"""What may follow ``browser-`` so that the id still matches the hub's ``CAMERA_ID_PATTERN``
(``^[A-Za-z0-9_-]{1,64}$``)."""

RATE_WINDOW_S = 2.0
"""``sent_fps`` is the rate over about this many seconds."""


def camera_id_for(name: str) -> str:
    """``"laptop"`` -> ``"browser-laptop"``. Raises ValueError naming the rule when ``name`` (after
    stripping spaces) is empty, too long (57+ characters) or has characters other than letters,
    digits, ``_`` and ``-``."""
    name = name.strip()
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"camera name {name!r}: use 1-{64 - len(PREFIX)} letters, digits, '_' or '-'")
    return PREFIX + name


@dataclass(frozen=True, slots=True)
class BrowserCameraStatus:
    """What the page shows. ``state``: ``idle`` (no frame yet), ``streaming``, ``stopped``.

    Counters are for the current sender (a restarted stream starts from 0): ``received`` frames
    from the browser, ``sent`` accepted by the hub, ``dropped`` replaced while the sender was
    behind (both mailboxes), ``thinned`` skipped by the fps cap, ``rejected`` refused by the hub
    (4xx), ``failed`` uploads that found the hub down. ``sent_fps`` in 1/s over ~2 s; clock offset
    (hub minus this server) and its uncertainty in ms, None before the first synchronisation.
    """

    camera_id: str
    state: str
    received: int = 0
    sent: int = 0
    dropped: int = 0
    thinned: int = 0
    rejected: int = 0
    failed: int = 0
    sent_fps: float = 0.0
    hub_up: bool | None = None
    clock_offset_ms: float | None = None
    clock_uncertainty_ms: float | None = None
    error: str | None = None


class _Sender:
    """One running upload pipeline: push source, camera worker, and the client's heartbeat
    (``client:<host>:browser-<name>``, so the Monitor page lists it like any camera client)."""

    def __init__(self, config: CameraConfig, client: ClientConfig, fps: float | None,
                 idle_timeout_s: float | None) -> None:
        self.source = PushSource(fps=fps, idle_timeout_s=idle_timeout_s)
        self.worker = CameraWorker(config, client, capture_factory=self.source.capture_loop)
        rates = CameraRates([self.worker])

        def fields() -> dict:
            # The worker also ends by itself (no frame for idle_timeout_s): the heartbeat follows
            # it and says goodbye, rather than report a dead camera for ever.
            if not self.worker.is_alive():
                self.heartbeat.stop(timeout=0)
            return rates()

        source = HeartbeatSource(process_id("client", config.camera_id), "client", build=fields,
                                 interval_s=client.heartbeat_interval_s)
        self.heartbeat = HeartbeatThread(HeartbeatSender(source, client.hub_url, client.token),
                                         timeout_s=client.upload_timeout_s)
        self.worker.start()
        self.heartbeat.start()

    def alive(self) -> bool:
        return self.worker.is_alive() and not self.source.closed

    def stop(self) -> None:
        """Signal only (never blocks the caller's thread): the threads finish within ~1 s."""
        self.source.close()
        self.worker.stop()
        self.heartbeat.stop(timeout=0)

    def join(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for thread in (self.worker, self.heartbeat):
            thread.join(max(0.0, deadline - time.monotonic()))
        return not (self.worker.is_alive() or self.heartbeat.is_alive())


class BrowserCamera:
    """One browser tab's camera.

    Args:
        camera_id: the hub's camera id (``camera_id_for(name)``).
        hub_url: hub base URL, ``http(s)://host:port``.
        fps: most frames per second uploaded (None: every frame the browser delivers).
        max_width: frames wider than this are downscaled before JPEG encoding, px.
        jpeg_quality: 1-100.
        idle_timeout_s: the sender ends after this long without a frame (a tab that vanished without
            a WebRTC goodbye), s.

    The page calls ``start()`` while the stream plays; the sender itself starts on the next frame
    (and again if it ended idle). ``stop()`` or ``on_ended`` (Stop pressed, tab closed, page left)
    end it, and frames still in flight afterwards are not uploaded. Thread-safe: the
    sink runs on streamlit-webrtc's event loop, the rest on the session's script thread.
    """

    def __init__(self, camera_id: str, hub_url: str,
                 *,
                 fps: float | None = None, max_width: int = 640, jpeg_quality: int = 80,
                 idle_timeout_s: float | None = DEFAULT_IDLE_TIMEOUT_S) -> None:
        self.camera_id = camera_id
        self.config = CameraConfig(camera_id=camera_id, source="browser", fps=fps, max_width=max_width,
                                   jpeg_quality=jpeg_quality, loop=False)
        self.client = ClientConfig(hub_url=hub_url, cameras=(self.config,))
        self.fps = fps
        self.idle_timeout_s = idle_timeout_s
        self._lock = threading.Lock()
        self._armed = False
        self._sender: _Sender | None = None
        self._retired: list[_Sender] = []  # stopped senders whose threads may still be finishing
        self._rates: deque[tuple[float, int]] = deque()
        self._rates_lock = threading.Lock()  # sampled by the page's thread

    # -- streamlit-webrtc's side (its event loop) ------------------------------------------------

    def video_frame_sink(self, frame: av.VideoFrame) -> None:
        """Stamp one frame from the browser and hand it over (never blocking). Runs on
        streamlit-webrtc's event loop, once per frame: a decode and a queue swap, nothing more."""
        sender = self._running_sender()
        if sender is None:  # not started, or stopped
            return
        arrival_ns = sender.worker.clock.clock_ns()  # before decoding: the moment it reached us
        sender.source.push(frame.to_ndarray(format="bgr24"), arrival_ns)

    def on_ended(self) -> None:
        """The browser's track ended (Stop pressed, tab closed, page left): stop uploading."""
        log.info("[%s] video track ended; stopping the sender", self.camera_id)
        self.stop()

    # -- the page's side -----------------------------------------------------------------------

    def start(self) -> None:
        """Upload from the next frame on (idempotent)."""
        with self._lock:
            self._armed = True

    def stop(self) -> None:
        """Stop uploading (signal only: returns at once, the threads end within ~1 s). The hub
        marks the camera stale ``stale_after_s`` (2 s) after its last frame."""
        with self._lock:
            self._armed = False
            sender = self._retire_locked()
        if sender is not None:
            sender.stop()

    def join(self, timeout: float = 2.0) -> bool:
        """Wait up to ``timeout`` s for the threads of every stopped sender; True when all ended."""
        with self._lock:
            senders = list(self._retired)
        deadline = time.monotonic() + timeout
        return all([s.join(max(0.0, deadline - time.monotonic())) for s in senders])

    @property
    def running(self) -> bool:
        """A sender is uploading (started, had a frame, not stopped, not ended idle)."""
        with self._lock:
            return self._sender is not None and self._sender.alive()

    def status(self) -> BrowserCameraStatus:
        """Counters of the current (or last) sender; see ``BrowserCameraStatus``."""
        with self._lock:
            sender = self._sender or (self._retired[-1] if self._retired else None)
            running = self._sender is not None and self._sender.alive()
        if sender is None:
            return BrowserCameraStatus(self.camera_id, "idle")
        s, src = sender.worker.stats, sender.source
        fps = self._sent_fps(s.sent)
        error = sender.worker.error
        return BrowserCameraStatus(
            camera_id=self.camera_id, state="streaming" if running else "stopped",
            received=src.pushed, sent=s.sent, dropped=src.dropped + s.dropped, thinned=src.thinned,
            rejected=s.rejected, failed=s.failed, sent_fps=round(fps, 1) if running else 0.0,
            hub_up=s.hub_up, clock_offset_ms=s.clock_offset_ms, clock_uncertainty_ms=s.clock_uncertainty_ms,
            error=None if error is None else f"{type(error).__name__}: {error}",
        )

    # -- internals -------------------------------------------------------------------------------

    def _running_sender(self) -> _Sender | None:
        with self._lock:
            if not self._armed:
                return None
            if self._sender is not None and self._sender.alive():
                return self._sender
            ended = self._retire_locked()  # ended by itself (idle, or failed)
            log.info("[%s] frames from the browser; streaming to %s", self.camera_id, self.client.hub_url)
            sender = self._sender = _Sender(self.config, self.client, self.fps, self.idle_timeout_s)
        with self._rates_lock:
            self._rates.clear()
        if ended is not None:
            ended.stop()
        return sender

    def _retire_locked(self) -> _Sender | None:
        """Move the current sender to the retired list (kept for ``status`` and ``join``; those
        whose threads ended are forgotten, bar the last). Caller holds the lock and stops it."""
        sender, self._sender = self._sender, None
        if sender is not None:
            self._retired = [s for s in self._retired if not s.join(0)] + [sender]
        return sender

    def _sent_fps(self, sent: int) -> float:
        """Frames sent per second over the last ~``RATE_WINDOW_S`` of calls; 0.0 until 0.2 s of them."""
        now = time.monotonic()
        with self._rates_lock:
            self._rates.append((now, sent))
            while len(self._rates) > 2 and now - self._rates[1][0] >= RATE_WINDOW_S:
                self._rates.popleft()
            t0, sent0 = self._rates[0]
        return (sent - sent0) / (now - t0) if now - t0 > 0.2 and sent >= sent0 else 0.0
