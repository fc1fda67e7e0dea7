"""A camera whose frames are pushed in by a callback (a browser's camera through streamlit-webrtc)
instead of read from an OpenCV source; ``CameraWorker`` uploads them as it does any camera's.

Producer thread --push()--> size-1 mailbox --> ``capture:<id>`` thread (encode) --> the worker's
own size-1 mailbox --> upload. ``push`` never blocks the producer: a frame that arrives while the
previous one still waits for the encoder replaces it and counts as a drop, as in the clip client.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from clients.capture import CapturedFrame
from clients.config import CameraConfig
from clients.encode import encode_jpeg
from clients.pacing import RateLimiter
from clients.quality import QualityGate

# A browser tab closed without a clean WebRTC shutdown just stops delivering frames (the peer
# connection itself times out only after ~30 s of failed ICE consent checks, and Streamlit keeps a
# disconnected session longer still); after this long without a frame the camera ends by itself.
DEFAULT_IDLE_TIMEOUT_S = 5.0
# How often a waiting capture thread re-checks its stop event when nothing wakes it.
_STOP_POLL_S = 0.2


class PushSource:
    """Frames pushed from any thread, handed to the ``capture:<id>`` thread of a ``CameraWorker``.

    Build it, pass ``capture_loop`` as the worker's ``capture_factory``, start the worker, then
    ``push`` frames. Thread-safe.

    Args:
        fps: most frames per second accepted, in 1/s (``RateLimiter``: frames over the rate are
            thinned, not counted as drops); None takes every frame.
        idle_timeout_s: the capture loop ends (and with it the worker) when no frame was pushed for
            this long, in s; None waits for ever.
        clock: monotonic clock, s (tests pass their own).

    Counters (read from any thread): ``pushed`` frames offered, ``thinned`` refused by the rate cap,
    ``dropped`` replaced in the mailbox before the encoder took them.
    """

    def __init__(self, fps: float | None = None, idle_timeout_s: float | None = DEFAULT_IDLE_TIMEOUT_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_timeout_s = idle_timeout_s
        self._limiter = RateLimiter(fps) if fps else None
        self._clock = clock
        self._cond = threading.Condition()
        self._pending: tuple[np.ndarray, int] | None = None
        self._closed = False
        self._last_push = clock()
        self.pushed = 0
        self.thinned = 0
        self.dropped = 0

    def push(self, image: np.ndarray, capture_time_ns: int) -> bool:
        """Offer one BGR image (H x W x 3, uint8) stamped ``capture_time_ns`` (the worker's local
        clock, ns since the epoch). Never blocks. Returns False when the frame is not kept (rate
        cap, or the source is closed); the caller must not modify ``image`` afterwards."""
        now = self._clock()
        with self._cond:
            if self._closed:
                return False
            self.pushed += 1
            self._last_push = now
            if self._limiter is not None and not self._limiter.should_emit(now):
                self.thinned += 1
                return False
            if self._pending is not None:
                self.dropped += 1
            self._pending = (image, capture_time_ns)
            self._cond.notify_all()
            return True

    def close(self) -> None:
        """Refuse further frames and wake the capture loop so it ends at once."""
        with self._cond:
            self._closed = True
            self._pending = None
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed

    def take(self, stop: threading.Event) -> tuple[np.ndarray, int] | None:
        """Wait for the next pushed frame; None once ``stop`` is set, the source is closed, or no
        frame came for ``idle_timeout_s``."""
        with self._cond:
            while self._pending is None:
                if self._closed or stop.is_set():
                    return None
                if self.idle_timeout_s is not None and self._clock() - self._last_push > self.idle_timeout_s:
                    return None
                self._cond.wait(_STOP_POLL_S)
            frame, self._pending = self._pending, None
            return frame

    def capture_loop(self, config: CameraConfig, on_frame: Callable[[CapturedFrame], None],
                     stop: threading.Event, log: logging.LoggerAdapter | logging.Logger,
                     clock_ns: Callable[[], int] = time.time_ns,
                     start_at_local_ns: Callable[[], int | None] | None = None,
                     quality: QualityGate | None = None) -> PushCaptureLoop:
        """The ``CameraWorker`` capture factory (same arguments as ``CaptureLoop``; ``clock_ns`` and
        ``start_at_local_ns`` are unused: frames arrive already stamped, and live)."""
        return PushCaptureLoop(self, config, on_frame, stop, log, quality)


class PushCaptureLoop:
    """The ``capture:<id>`` thread's body for a ``PushSource``: take, downscale and JPEG-encode
    (``config.max_width``, ``config.jpeg_quality``), hand to ``on_frame``. Same contract as
    ``CaptureLoop``: ``run()`` returns when stopped (or idle), keeps an exception in ``error``."""

    def __init__(self, source: PushSource, config: CameraConfig, on_frame: Callable[[CapturedFrame], None],
                 stop: threading.Event, log: logging.LoggerAdapter | logging.Logger,
                 quality: QualityGate | None = None) -> None:
        self.source = source
        self.quality = quality or QualityGate(config.jpeg_quality, config.max_width)
        self.config = config
        self.on_frame = on_frame
        self.stop = stop
        self.log = log
        self.seq = 0
        self.finished = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while (item := self.source.take(self.stop)) is not None:
                image, capture_time_ns = item
                if not self.quality.admit(capture_time_ns):  # the hub's target rate thins it out
                    continue
                quality, max_width = self.quality.encoding()
                jpeg, width, height = encode_jpeg(image, quality=quality, max_width=max_width)
                self.on_frame(CapturedFrame(self.config.camera_id, self.seq, capture_time_ns, None,
                                            jpeg, width, height))
                self.seq += 1
            if not self.stop.is_set() and not self.source.closed:
                self.log.info("no frame for %.0f s; camera ends", self.source.idle_timeout_s)
        except BaseException as exc:  # kept for the owner, and logged with its traceback
            self.error = exc
            self.log.exception("capture failed")
        finally:
            self.finished.set()
