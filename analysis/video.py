"""Reading a video file as (frame, capture_time_ns, seq) for the offline path."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    fps: float
    frame_count: int
    width: int
    height: int


def probe(path: str | Path) -> VideoInfo:
    """Basic properties of a video. Raises FileNotFoundError / ValueError if it cannot be opened."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(path)
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise ValueError(f"cannot open video {path}")
        fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        return VideoInfo(path, fps, int(cap.get(cv2.CAP_PROP_FRAME_COUNT)),
                         int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    finally:
        cap.release()


def frames(path: str | Path) -> Iterator[tuple[np.ndarray, int, int]]:
    """Yield (BGR frame, capture_time_ns, seq) for every frame; capture time is seq / fps, as a
    camera client would stamp a live frame. Raises like ``probe``."""
    info = probe(path)
    cap = cv2.VideoCapture(str(info.path))
    try:
        seq = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            yield frame, int(round(seq * 1e9 / info.fps)), seq
            seq += 1
    finally:
        cap.release()
