"""Helpers for dashboard tests: real JPEGs from the shared squat clips, posted over HTTP."""

from __future__ import annotations

import json
import time
import urllib.request

import cv2
import pytest

from tests.support import squat_clip

CLIPS = {"side": "side_bodyweight_intellifit1.mp4", "front": "front_barbell_gymvision.mp4"}


def cut_jpegs(name: str, count: int, width: int = 480) -> list[bytes]:
    """The first ``count`` frames of a clip, scaled to ``width`` px and JPEG-encoded."""
    path = squat_clip(name)
    if not path.exists():
        pytest.skip(f"shared footage not found at {path}")
    cap = cv2.VideoCapture(str(path))
    out = []
    try:
        while len(out) < count:
            ok, frame = cap.read()
            if not ok:
                break
            h, w = frame.shape[:2]
            frame = cv2.resize(frame, (width, round(h * width / w)))
            out.append(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    finally:
        cap.release()
    assert len(out) == count, f"could not read {count} frames from {path}"
    return out


@pytest.fixture(scope="session")
def camera_jpegs() -> dict[str, list[bytes]]:
    """Per camera id, a few real JPEG frames from its own clip."""
    return {cam: cut_jpegs(clip, 5) for cam, clip in CLIPS.items()}


def post_frame(hub_url: str, camera_id: str, seq: int, jpeg: bytes,
               capture_time_ns: int | None = None) -> dict:
    """``POST /api/v1/cameras/{id}/frames`` as a camera client would; returns the hub's answer."""
    req = urllib.request.Request(
        f"{hub_url}/api/v1/cameras/{camera_id}/frames", data=jpeg, method="POST",
        headers={
            "Content-Type": "image/jpeg",
            "X-Capture-Time-Ns": str(capture_time_ns or time.time_ns()),
            "X-Frame-Seq": str(seq),
        },
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 201
        return json.loads(resp.read())
