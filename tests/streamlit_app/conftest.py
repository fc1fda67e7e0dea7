"""Helpers for dashboard tests: real JPEGs from the shared squat clips, posted over HTTP."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from tests.support import jpeg, read_clip


@pytest.fixture(autouse=True)
def _stop_monitor_pollers():
    """``streamlit_app/app.py`` starts the alert banner's monitor poller: stop it after each test."""
    yield
    from streamlit_app.monitor.resources import get_monitor_poller

    get_monitor_poller.clear()


CLIPS = {"side": "side_bodyweight_intellifit1.mp4", "front": "front_barbell_gymvision.mp4"}


def cut_jpegs(name: str, count: int, width: int = 480) -> list[bytes]:
    """The first ``count`` frames of a clip, scaled to ``width`` px and JPEG-encoded."""
    return [jpeg(image) for image in read_clip(name, count, width)]


@pytest.fixture(scope="session")
def camera_jpegs() -> dict[str, list[bytes]]:
    """Per camera id, a few real JPEG frames from its own clip."""
    return {cam: cut_jpegs(clip, 5) for cam, clip in CLIPS.items()}


def post_frame(hub_url: str, camera_id: str, seq: int, jpeg: bytes, capture_time_ns: int | None = None, *,
               source_frame: int | None = None, clock_offset_ns: int | None = None,
               clock_uncertainty_ns: int | None = None) -> dict:
    """``POST /api/v1/cameras/{id}/frames`` as a camera client would; returns the hub's answer.

    The optional arguments become the ``X-Source-Frame`` and ``X-Clock-*`` headers of a client
    that synchronised its clock (its capture time is then on the hub's clock).
    """
    headers = {
        "Content-Type": "image/jpeg",
        "X-Capture-Time-Ns": str(capture_time_ns or time.time_ns()),
        "X-Frame-Seq": str(seq),
    }
    optional = {"X-Source-Frame": source_frame, "X-Clock-Offset-Ns": clock_offset_ns,
                "X-Clock-Uncertainty-Ns": clock_uncertainty_ns}
    headers.update({name: str(value) for name, value in optional.items() if value is not None})
    req = urllib.request.Request(f"{hub_url}/api/v1/cameras/{camera_id}/frames", data=jpeg, method="POST",
                                 headers=headers)
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 201
        return json.loads(resp.read())


# As clients that synchronised their clocks send them: hub minus camera clock, and its error bound.
OFFSETS_NS = {"front": -350_000_000, "side": 800_000_000}
UNCERTAINTY_NS = 300_000
PERIOD_NS = 33_333_333  # 30 fps


def post_synced_pair(hub_url: str, camera_jpegs: dict[str, list[bytes]], seq: int, base_ns: int) -> None:
    """Frame ``seq`` of each camera (source frame ``seq`` of its clip), captured at
    ``base_ns + seq`` periods on the hub's clock, ``front`` 2 ms after ``side``, with the
    cameras' clock offsets."""
    for cam, jpegs in camera_jpegs.items():
        post_frame(hub_url, cam, seq, jpegs[seq % len(jpegs)],
                   base_ns + seq * PERIOD_NS + (2_000_000 if cam == "front" else 0), source_frame=seq,
                   clock_offset_ns=OFFSETS_NS[cam], clock_uncertainty_ns=UNCERTAINTY_NS)
