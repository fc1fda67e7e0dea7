"""One camera: a thread with its own asyncio loop and hub client session that uploads the newest
captured frame, fed by a capture thread."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from clients.capture import CapturedFrame, CaptureLoop
from clients.clock import ClockSync
from clients.config import CameraConfig, ClientConfig
from clients.failover import FailoverTransport
from clients.quality import QualityGate
from clients.stats import CameraStats
from clients.transport import NetDelay, Stamp, make_transport
from formsync.hub_client import HubClient, HubRejected, HubUnreachable, open_session
from formsync.loop_wake import wake_loop
from formsync.retry import reconnect_delays

log = logging.getLogger("formsync.camera")

CaptureFactory = Callable[..., CaptureLoop]
"""Builds a camera's capture loop: ``(config, on_frame, stop, log, *, clock_ns, start_at_local_ns, quality)``
-> an object with ``run()`` (returns when ``stop`` is set or the source ended) and ``error``.
``CaptureLoop`` reads an OpenCV source; ``clients.push.PushSource.capture_loop`` takes pushed frames."""


class CameraLog(logging.LoggerAdapter):
    """Prefixes every message with the camera id, so interleaved camera logs stay readable."""

    def process(self, msg, kwargs):
        return f"[{self.extra['camera']}] {msg}", kwargs


class PendingFrame:
    """Size-1 mailbox between capture and upload: a newer frame replaces the pending one
    (counted as a drop), so a slow hub never builds a backlog. Used on one event loop only."""

    def __init__(self, stats: CameraStats) -> None:
        self._frame: CapturedFrame | None = None
        self._ready = asyncio.Event()
        self._stats = stats

    def put(self, frame: CapturedFrame) -> None:
        if self._frame is not None:
            self._stats.dropped += 1
        self._frame = frame
        self._ready.set()

    def take_nowait(self) -> CapturedFrame | None:
        frame, self._frame = self._frame, None
        self._ready.clear()
        return frame

    async def get(self) -> CapturedFrame:
        await self._ready.wait()
        self._ready.clear()
        frame, self._frame = self._frame, None
        return frame


class CameraWorker(threading.Thread):
    """Runs one camera until ``stop()``; thread named ``camera:<id>``, logs prefixed with the id.

    An exception that ends the worker is logged with its traceback and kept in ``error``.
    ``capture_factory`` chooses where frames come from (default: ``config.source`` via OpenCV).
    """

    def __init__(self, config: CameraConfig, client: ClientConfig,
                 capture_factory: CaptureFactory = CaptureLoop) -> None:
        super().__init__(name=f"camera:{config.camera_id}", daemon=True)
        self.config = config
        self.capture_factory = capture_factory
        self.client = client
        self.hub_url = client.hub_url  # the hub frames go to now (another of client.hub_urls after a failover)
        shift_ns = int(client.clock_offset_ms * 1e6)
        self.clock = ClockSync((lambda: time.time_ns() + shift_ns) if shift_ns else time.time_ns)
        self.synced = threading.Event()
        self.stats = CameraStats()
        self.quality = QualityGate(config.jpeg_quality, config.max_width, self.clock.to_hub_ns)
        self.error: BaseException | None = None
        self.log = CameraLog(log, {"camera": config.camera_id})
        self._stop_event = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._synced_with = 0  # the transport's generation (its hub) the clock offset was measured with

    def stop(self) -> None:
        self._stop_event.set()
        wake_loop(self._loop, self._wake)

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self.error = exc
            self.log.exception("camera failed")

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._stop_event.is_set():
            return
        pending = PendingFrame(self.stats)

        def on_frame(frame: CapturedFrame) -> None:  # called on the capture thread
            self.stats.captured += 1
            try:
                self._loop.call_soon_threadsafe(pending.put, frame)
            except RuntimeError:  # loop closed during shutdown
                self._stop_event.set()

        start_at = None
        if self.client.start_at_ns is not None:
            def start_at() -> int | None:
                # Frame 0's moment is given on the hub's clock: wait for an offset to convert it.
                while not self.synced.wait(0.1):
                    if self._stop_event.is_set():
                        return None
                return self.clock.to_local_ns(self.client.start_at_ns)

        capture = self.capture_factory(self.config, on_frame, self._stop_event, self.log,
                                       clock_ns=self.clock.clock_ns, start_at_local_ns=start_at,
                                       quality=self.quality)
        capture_done = asyncio.Event()

        def run_capture() -> None:
            capture.run()
            try:
                self._loop.call_soon_threadsafe(capture_done.set)
            except RuntimeError:
                pass

        capture_thread = threading.Thread(target=run_capture, name=f"capture:{self.config.camera_id}", daemon=True)

        def fps() -> float | None:
            return getattr(capture, "fps", None) or self.config.fps

        async with open_session(self.client.token, self.client.upload_timeout_s) as session:
            delay = NetDelay(self.client.net_delay_ms)
            transport = FailoverTransport(
                [make_transport(self.client.transport, HubClient(session, url), self.config.camera_id,
                                self.client.upload_timeout_s, delay, fps) for url in self.client.hub_urls],
                self.client.hub_urls)
            capture_thread.start()
            tasks = [
                asyncio.create_task(self._upload(pending, transport), name="upload"),
                asyncio.create_task(self._resync(transport), name="clock"),
                asyncio.create_task(self._status(), name="status"),
                asyncio.create_task(self._wake.wait(), name="stop"),
                asyncio.create_task(capture_done.wait(), name="capture-ended"),
            ]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                if capture_done.is_set() and not self._stop_event.is_set():
                    await self._flush(pending, transport)
            finally:
                self._stop_event.set()
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await transport.close()
                # Wait for the capture thread to leave OpenCV: a VideoCapture torn down by
                # interpreter exit while a grab is running aborts the process.
                await asyncio.to_thread(capture_thread.join, 1.5)
        if capture.error is not None:
            raise capture.error

    async def _upload(self, pending: PendingFrame, transport) -> None:
        delays = None
        refused = False
        while True:
            frame = await pending.get()
            started = time.perf_counter()
            try:
                if self.clock.estimate is None or self._synced_with != transport.generation:
                    await self.sync_clock(transport)
                self.quality.update(await transport.send(frame, self.stamp(frame)))
                self.hub_url = self.stats.hub_url = transport.hub_url
            except HubUnreachable as exc:
                self.stats.failed += 1
                if self.stats.hub_up is not False:
                    self.log.warning("hub %s unavailable (%s); retrying with backoff", self.hub_url, exc)
                    self.stats.hub_up = False
                    delays = reconnect_delays(max_value=self.client.retry_max_s)
                # New frames keep replacing the pending one meanwhile: after the wait the
                # newest is sent, never a backlog.
                await asyncio.sleep(next(delays))
                continue
            except HubRejected as exc:
                self.stats.rejected += 1
                if exc.status not in (401, 403, 429):
                    self.log.warning("frame %d rejected: %s", frame.seq, exc)
                    continue
                # A token the hub refuses (or a rate it will not take) is not fixed by the next
                # frame: say it once, then retry with backoff until the operator fixes it.
                if not refused:
                    self.log.error("hub %s refuses this camera: %s; retrying with backoff", self.hub_url, exc)
                    refused = True
                    delays = reconnect_delays(max_value=self.client.retry_max_s)
                await asyncio.sleep(next(delays))
                continue
            refused = False
            self.stats.latencies_ms.append((time.perf_counter() - started) * 1e3)
            self.stats.sent += 1
            if self.stats.hub_up is not True:
                self.log.info("streaming to %s", self.hub_url)
                self.stats.hub_up = True

    def stamp(self, frame: CapturedFrame) -> Stamp:
        """The frame's capture time on the hub's clock, with the offset estimate used."""
        est = self.clock.estimate
        if est is None:
            return Stamp(frame.capture_time_ns)
        offset = self.clock.offset_at(frame.capture_time_ns)
        return Stamp(int(round(frame.capture_time_ns + offset)), int(round(offset)), int(round(est.uncertainty_ns)))

    async def sync_clock(self, transport) -> None:
        """One burst of NTP exchanges; raises HubUnreachable when the hub does not answer (or
        HubRejected when it refuses this client)."""
        generation = getattr(transport, "generation", 0)
        samples = [await transport.time_sample(self.clock.clock_ns) for _ in range(self.client.time_burst)]
        if getattr(transport, "generation", 0) != generation:  # moved to another hub mid-burst: measure it whole
            generation = transport.generation
            samples = [await transport.time_sample(self.clock.clock_ns) for _ in range(self.client.time_burst)]
        self._synced_with = generation
        first = self.clock.estimate is None
        est = self.clock.update(samples)
        self.synced.set()
        self.stats.clock_offset_ms = est.offset_ns / 1e6
        self.stats.clock_uncertainty_ms = est.uncertainty_ns / 1e6
        if first:
            self.log.info("clock offset to hub %+.3f ms (± %.3f ms)", est.offset_ns / 1e6, est.uncertainty_ns / 1e6)

    async def _resync(self, transport) -> None:
        """Synchronise at once, then every ``resync_interval_s``; retry failures with backoff
        (the upload loop reports the hub's state; an old estimate stays in use meanwhile)."""
        delays = None
        while True:
            try:
                await self.sync_clock(transport)
                delays = None
            except (HubUnreachable, HubRejected):  # the upload loop reports which
                delays = delays or reconnect_delays()
                await asyncio.sleep(next(delays))
                continue
            await asyncio.sleep(self.client.resync_interval_s)

    async def _flush(self, pending: PendingFrame, transport) -> None:
        """A file played without looping ended: give its last frame a chance to go out."""
        await asyncio.sleep(0)  # let the capture thread's last call_soon_threadsafe land
        frame = pending.take_nowait()
        if frame is not None:
            try:
                await transport.send(frame, self.stamp(frame))
                self.stats.sent += 1
            except (HubUnreachable, HubRejected) as exc:
                self.log.warning("last frame not sent: %s", exc)

    async def _status(self) -> None:
        while True:
            await asyncio.sleep(self.client.status_interval_s)
            self.log.info(self.stats.status_line())
