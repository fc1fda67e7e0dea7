"""Opening frame sources: a device index, a video file, or a stream URL."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

import cv2


class SourceKind(enum.Enum):
    DEVICE = "device"
    FILE = "file"
    URL = "url"


class SourceError(RuntimeError):
    """The source cannot be opened or read."""


def classify(source: str) -> SourceKind:
    if source.isdigit():
        return SourceKind.DEVICE
    if "://" in source:
        return SourceKind.URL
    return SourceKind.FILE


@dataclass
class OpenedSource:
    """An open ``cv2.VideoCapture`` with what is known of it. ``fps`` is 0.0 when unknown."""

    kind: SourceKind
    cap: cv2.VideoCapture
    fps: float
    frame_count: int

    def release(self) -> None:
        self.cap.release()


def open_source(source: str, timeout_s: float | None = None) -> OpenedSource:
    """Open ``source``. Raises SourceError naming the source when it does not open.

    ``timeout_s`` bounds how long a stream URL may take to open and how long one read may wait
    (FFmpeg's interrupt callback: ``CAP_PROP_OPEN_TIMEOUT_MSEC`` / ``CAP_PROP_READ_TIMEOUT_MSEC``,
    30 s each by default), so a stalled camera turns into a read error and is reopened instead of
    hanging its capture thread.
    """
    kind = classify(source)
    if kind is SourceKind.FILE and not Path(source).is_file():
        raise SourceError(f"video file not found: {source}")
    if kind is SourceKind.DEVICE:
        cap = cv2.VideoCapture(int(source))
    elif kind is SourceKind.URL and timeout_s is not None:
        ms = int(timeout_s * 1000)
        cap = cv2.VideoCapture(source, cv2.CAP_FFMPEG,
                               [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms])
    else:
        cap = cv2.VideoCapture(source)
    if not cap.isOpened():
        cap.release()
        raise SourceError(f"cannot open {kind.value} source {source!r}")
    if kind is SourceKind.DEVICE:
        # Keep at most one frame in the driver's queue, so a grab returns a fresh frame, not a stale one.
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = float(fps) if fps and 0 < fps < 1000 else 0.0
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) if kind is SourceKind.FILE else 0
    return OpenedSource(kind=kind, cap=cap, fps=fps, frame_count=count)
