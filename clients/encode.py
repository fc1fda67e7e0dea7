"""Downscale and JPEG-encode a captured image."""

from __future__ import annotations

import cv2
import numpy as np


def encode_jpeg(image: np.ndarray, *, quality: int = 80, max_width: int | None = None) -> tuple[bytes, int, int]:
    """Encode a BGR image (H x W x 3, uint8) as JPEG, first shrinking it to ``max_width`` px wide.

    Returns ``(jpeg bytes, width, height)`` of the encoded image. Raises ValueError if OpenCV
    cannot encode it.
    """
    height, width = image.shape[:2]
    if max_width and width > max_width:
        height = max(1, round(height * max_width / width))
        width = max_width
        # INTER_AREA is OpenCV's recommended filter for shrinking (no aliasing moiré).
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes(), width, height
