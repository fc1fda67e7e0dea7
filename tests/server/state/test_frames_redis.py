"""Frames in a Redis of their own (``FORMSYNC_HUB_FRAMES_REDIS_URL``): the JPEG rings never reach the
append-only file of the Redis that keeps the state meant to survive a restart."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import httpx
import pytest
import redis

from server.settings import HubSettings
from tests.redis_server import RedisServer
from tests.support import RunningHub, read_clip

FRAMES = 60


def aof_bytes(server: RedisServer) -> int:
    return sum(f.stat().st_size for f in Path(server.dir).rglob("*.aof"))


def upload(hub: RunningHub, jpeg: bytes) -> None:
    with httpx.Client(base_url=hub.url) as http:
        for seq in range(FRAMES):
            r = http.post("/api/v1/cameras/side/frames", content=jpeg, headers={
                "Content-Type": "image/jpeg", "X-Frame-Seq": str(seq), "X-Capture-Time-Ns": str(time.time_ns())})
            assert r.status_code == 201, r.text
        assert http.get("/api/v1/cameras/side/frame").headers["x-frame-seq"] == str(FRAMES - 1)
        assert http.get("/healthz").status_code == 200


@pytest.fixture(scope="module")
def jpeg() -> bytes:
    return cv2.imencode(".jpg", read_clip("side_bodyweight_intellifit1.mp4", 1, width=640)[0])[1].tobytes()


def test_frames_go_to_their_own_redis_and_stay_out_of_the_state_redis_append_only_file(jpeg):
    sent = FRAMES * len(jpeg)
    with RedisServer(None, "--appendonly", "yes", "--appendfsync", "always") as state, RedisServer() as frames:
        with RunningHub(redis_url=state.url, frames_redis_url=frames.url) as hub:
            upload(hub, jpeg)
        assert redis.Redis.from_url(frames.url).keys("formsync:ring:*") == [b"formsync:ring:side"]
        assert redis.Redis.from_url(state.url).keys("formsync:ring:*") == []
        assert aof_bytes(state) < sent / 20, (aof_bytes(state), sent)
    # One Redis for everything: every JPEG goes through its append-only file (what the split avoids).
    with RedisServer(None, "--appendonly", "yes", "--appendfsync", "always") as shared:
        with RunningHub(redis_url=shared.url) as hub:
            upload(hub, jpeg)
        assert aof_bytes(shared) >= sent


def test_a_frames_redis_alone_is_refused():
    with pytest.raises(ValueError, match="frames_redis_url needs redis_url"):
        HubSettings(frames_redis_url="redis://127.0.0.1:6379/0")
