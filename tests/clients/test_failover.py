"""A camera client given several hubs moves to the next one when its hub goes down, and back."""

from __future__ import annotations

import time

import httpx
import pytest

from clients.cli import build_parser, config_from_args
from clients.config import CameraConfig, ClientConfig
from clients.runner import start_workers, stop_workers
from tests.support import RunningHub, squat_clip, wait_until

SIDE = squat_clip("side_bodyweight_intellifit1.mp4")


def latest_seq(hub_url: str) -> int:
    try:
        r = httpx.get(f"{hub_url}/api/v1/cameras/side/frame", timeout=1)
    except httpx.HTTPError:
        return -1
    return int(r.headers["x-frame-seq"]) if r.status_code == 200 else -1


def test_repeated_hub_options_are_the_hub_then_its_fallbacks():
    args = build_parser().parse_args(["--hub", "http://a:8000", "--hub", "http://b:8000", "--hub", "http://a:8000",
                                      "--camera", "side=0"])
    config = config_from_args(args)
    assert config.hub_url == "http://a:8000" and config.fallback_hub_urls == ("http://b:8000", "http://a:8000")
    assert config.hub_urls == ("http://a:8000", "http://b:8000")


@pytest.mark.skipif(not SIDE.exists(), reason=f"shared footage not found at {SIDE.parent}")
@pytest.mark.parametrize("transport", ["http", "ws"])
def test_a_camera_fails_over_to_the_next_hub_and_back(transport):
    first, second = RunningHub().start(), RunningHub().start()
    config = ClientConfig(hub_url=first.url, fallback_hub_urls=(second.url,), transport=transport,
                          status_interval_s=60, retry_max_s=0.5, upload_timeout_s=1,
                          cameras=(CameraConfig(camera_id="side", source=str(SIDE), max_width=160, fps=15),))
    workers = start_workers(config)
    try:
        assert wait_until(lambda: latest_seq(first.url) >= 3, 10)
        assert latest_seq(second.url) == -1  # one hub at a time
        first.stop()
        down = time.monotonic()
        assert wait_until(lambda: latest_seq(second.url) >= 0, 5)
        moved_s = time.monotonic() - down
        assert workers[0].hub_url == workers[0].stats.hub_url == second.url
        # Stamped with an offset measured to this hub.
        assert wait_until(lambda: httpx.get(f"{second.url}/api/v1/cameras").json()["cameras"][0]["clock_offset_ms"]
                          is not None, 3)
        first.start()
        second.stop()
        assert wait_until(lambda: latest_seq(first.url) >= 0, 5)
        assert workers[0].stats.hub_url == first.url
        assert moved_s < 5
    finally:
        assert stop_workers(workers) == []
        first.stop()
        second.stop()
