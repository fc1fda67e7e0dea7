"""A clip cut into a Y4M file for Chromium's fake camera (``--use-file-for-fake-video-capture``).

Y4M (YUV4MPEG2) is one text header line, then per frame ``FRAME\\n`` and the raw I420 planes
(https://wiki.multimedia.cx/index.php/YUV4MPEG2); Chromium reads it and loops it. OpenCV has no
Y4M writer, but converts BGR to I420, so the container is the two lines below.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2


def clip_to_y4m(clip: Path, out: Path, *, seconds: float = 3.0, width: int = 320, fps: float = 15.0,
                start_s: float = 0.0) -> Path:
    """Write ``seconds`` of ``clip`` (from ``start_s``) scaled to ``width`` px (height keeps the
    aspect ratio; both rounded down to even, as 4:2:0 needs) at ``fps`` frames/s or the clip's own
    rate if lower (frames in between are skipped: raw I420 is width x height x 1.5 bytes a frame).

    Returns ``out``. Raises ValueError when the clip cannot be read.
    """
    cap = cv2.VideoCapture(str(clip))
    try:
        clip_fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        fps = min(fps, clip_fps)
        src_w, src_h = cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)
        if not cap.isOpened() or not src_w or not src_h:
            raise ValueError(f"cannot read {clip}")
        w = width // 2 * 2
        h = int(src_h * width / src_w) // 2 * 2
        cap.set(cv2.CAP_PROP_POS_MSEC, start_s * 1e3)
        frames = read = 0
        with open(out, "wb") as f:
            rate = Fraction(fps).limit_denominator(1001)
            f.write(f"YUV4MPEG2 W{w} H{h} F{rate.numerator}:{rate.denominator} Ip A1:1 C420jpeg\n".encode())
            while frames < round(seconds * fps):
                ok, image = cap.read()
                if not ok:
                    break
                read += 1
                if (read - 1) * fps / clip_fps < frames:  # between two output frames
                    continue
                image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
                f.write(b"FRAME\n" + cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420).tobytes())
                frames += 1
        if not frames:
            raise ValueError(f"no frame read from {clip}")
    finally:
        cap.release()
    return out
