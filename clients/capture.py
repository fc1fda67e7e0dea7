"""The capture loop of one camera: grab, stamp, encode, hand over. Runs in its own thread.

Blocking OpenCV reads live here, never on the camera's asyncio loop, so a slow or hung source
cannot stall uploads; the thread is a daemon so a hung driver call cannot block process exit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from clients.config import CameraConfig
from clients.encode import encode_jpeg
from clients.pacing import FileSchedule, RateLimiter
from clients.quality import QualityGate
from clients.source import OpenedSource, SourceError, SourceKind, open_source
from formsync.retry import reconnect_delays

# Assumed when a file or stream does not report its rate (the common webcam/clip rate).
DEFAULT_FPS = 30.0


@dataclass(frozen=True, slots=True)
class CapturedFrame:
    """One encoded frame with its stamps.

    ``capture_time_ns``: this machine's clock (ns since the epoch) right after the grab; the
    uploader converts it to hub time.
    ``seq``: per-camera count of captured frames, from 0. ``source_frame``: index in the file,
    None for live sources.
    """

    camera_id: str
    seq: int
    capture_time_ns: int
    source_frame: int | None
    jpeg: bytes
    width: int
    height: int


class CaptureLoop:
    """Reads ``config.source`` until ``stop`` is set, calling ``on_frame`` for each frame.

    Files play in real time at their own fps (or a lower target), looping if ``config.loop``.
    Devices and streams are read as fast as they deliver and thinned to the target fps. A source
    that fails to open or read is reopened with backoff; other cameras are unaffected.


    Args:
        clock_ns: the local clock used for stamps (``time.time_ns`` unless shifted for tests).
        start_at_local_ns: for files, called once before playback: the local time at which frame 0
            is shown (pass ``p`` of a looping file starts ``p`` clip durations later), so several
            clients replaying one clip show the same frame at the same moment; None plays at once.
        quality: the hub's quality target (``clients/quality.py``): frames it thins out are not
            decoded; None sends every frame at the configured width and quality.
    """

    def __init__(self, config: CameraConfig, on_frame: Callable[[CapturedFrame], None],
                 stop: threading.Event, log: logging.LoggerAdapter | logging.Logger,
                 clock_ns: Callable[[], int] = time.time_ns,
                 start_at_local_ns: Callable[[], int | None] | None = None,
                 quality: QualityGate | None = None) -> None:
        self.config = config
        self.quality = quality or QualityGate(config.jpeg_quality, config.max_width)
        self.on_frame = on_frame
        self.stop = stop
        self.log = log
        self.clock_ns = clock_ns
        self.start_at_local_ns = start_at_local_ns
        self._passes = 0
        self._first_start: float | None = None
        self.seq = 0
        self.fps: float | None = None
        """The rate frames are handed over at once the source is open (frames/s); the uploader
        declares it to the hub, whose upload limit is a multiple of it."""
        self.finished = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # kept for the owner, and logged with its traceback
            self.error = exc
            self.log.exception("capture failed")
        finally:
            self.finished.set()

    def _run(self) -> None:
        delays = None
        while not self.stop.is_set():
            try:
                source = open_source(self.config.source, timeout_s=self.config.source_timeout_s)
            except SourceError as exc:
                if delays is None:
                    self.log.warning("%s; retrying with backoff", exc)
                    delays = reconnect_delays()
                if self.stop.wait(next(delays)):
                    return
                continue
            if delays is not None:
                self.log.info("source %s open", self.config.source)
            seq_before = self.seq
            try:
                if source.kind is SourceKind.FILE:
                    ended = self._play_file(source)
                    if ended and not self.config.loop:
                        self.log.info("end of file, not looping")
                        return
                else:
                    self._play_live(source)
            except SourceError as exc:
                # A stream that delivered frames (then ended, failed or hung past source_timeout_s)
                # starts the backoff afresh; one that fails straight after opening keeps growing it.
                if delays is None or self.seq > seq_before:
                    delays = reconnect_delays()
                wait = next(delays)
                self.log.warning("%s; reopening in %.1f s", exc, wait)
                if self.stop.wait(wait):
                    return
            else:
                delays = None
            finally:
                source.release()

    def _emit(self, image, capture_time_ns: int, source_frame: int | None) -> None:
        quality, max_width = self.quality.encoding()
        jpeg, width, height = encode_jpeg(image, quality=quality, max_width=max_width)
        frame = CapturedFrame(self.config.camera_id, self.seq, capture_time_ns, source_frame, jpeg, width, height)
        self.seq += 1
        self.on_frame(frame)

    def _pass_start(self, source: OpenedSource) -> float:
        """Monotonic time at which this pass shows frame 0."""
        if self._first_start is None:
            start_local = self.start_at_local_ns() if self.start_at_local_ns else None
            self._first_start = time.monotonic() if start_local is None else \
                time.monotonic() + (start_local - self.clock_ns()) / 1e9
            if start_local is not None:
                self.log.info("frame 0 at local %.3f s from now", self._first_start - time.monotonic())
            self._passes = 0
            return self._first_start
        self._passes += 1
        if self.start_at_local_ns is None:
            return time.monotonic()
        # Keep looping clients aligned: pass p starts p clip durations after the first.
        duration = source.frame_count / (source.fps or DEFAULT_FPS)
        return self._first_start + self._passes * duration

    def _play_file(self, source: OpenedSource) -> bool:
        """Play one pass; True when the file ended, False when stopped."""
        schedule = FileSchedule(source.fps or DEFAULT_FPS, self.config.fps)
        self.fps = schedule.fps
        cap = source.cap
        start = self._pass_start(source)
        k = position = 0
        while True:
            if self.stop.wait(max(0.0, start + schedule.emit_time(k) - time.monotonic())):
                return False
            k = schedule.catch_up(k, time.monotonic() - start)
            index = schedule.source_index(k)
            while position < index:  # frames the target fps (or lateness) skips
                if not cap.grab():
                    return True
                position += 1
            if not cap.grab():
                return True
            capture_time_ns = self.clock_ns()
            position += 1
            if not self.quality.admit(capture_time_ns):  # the hub's target rate thins it out
                k += 1
                continue
            ok, image = cap.retrieve()
            if not ok:
                return True
            self._emit(image, capture_time_ns, index)
            k += 1

    def _play_live(self, source: OpenedSource) -> None:
        fps = min(self.config.fps or source.fps or DEFAULT_FPS, source.fps or float("inf"))
        self.fps = fps
        limiter = RateLimiter(fps)
        cap = source.cap
        while not self.stop.is_set():
            if not cap.grab():
                raise SourceError(f"read from {self.config.source!r} failed")
            capture_time_ns = self.clock_ns()
            # Grab every frame (keeps the device queue drained) but decode only those we send.
            if not limiter.should_emit(time.monotonic()) or not self.quality.admit(capture_time_ns):
                continue
            ok, image = cap.retrieve()
            if not ok:
                raise SourceError(f"decode from {self.config.source!r} failed")
            self._emit(image, capture_time_ns, None)
