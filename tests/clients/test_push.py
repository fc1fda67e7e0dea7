"""Pushed frames (the browser camera's path): the size-1 mailbox, and CameraWorker uploading them to
a real hub on loopback."""

from __future__ import annotations

import threading
import time

import httpx
import numpy as np
import pytest

from clients.camera import CameraWorker
from clients.config import CameraConfig, ClientConfig
from clients.push import PushSource
from tests.support import RunningHub, read_clip, wait_until


@pytest.fixture(scope="module")
def clip_images() -> list[np.ndarray]:
    """Thirty real BGR frames (480 px wide) from a squat clip."""
    return read_clip("side_bodyweight_intellifit1.mp4", 30, width=480)


class StepClock:
    """A monotonic clock the test moves by hand, s."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def image(value: int) -> np.ndarray:
    return np.full((8, 8, 3), value, np.uint8)


def test_a_push_replaces_the_pending_frame_and_counts_the_drop():
    src = PushSource(idle_timeout_s=None)
    assert src.push(image(1), 1) and src.push(image(2), 2) and src.push(image(3), 3)
    assert (src.pushed, src.dropped) == (3, 2)
    frame, stamp = src.take(threading.Event())
    assert stamp == 3 and frame[0, 0, 0] == 3  # the newest, never a backlog
    src.push(image(4), 4)
    assert src.take(threading.Event())[1] == 4 and src.dropped == 2


def test_close_wakes_a_waiting_taker_and_refuses_later_frames():
    src = PushSource(idle_timeout_s=None)
    got = []
    taker = threading.Thread(target=lambda: got.append(src.take(threading.Event())))
    taker.start()
    src.close()
    taker.join(2)
    assert not taker.is_alive() and got == [None]
    assert src.push(image(1), 1) is False and src.pushed == 0


def test_a_set_stop_event_ends_take():
    stop = threading.Event()
    stop.set()
    assert PushSource(idle_timeout_s=None).take(stop) is None


def test_the_fps_cap_thins_frames_without_counting_drops():
    clock = StepClock()
    src = PushSource(fps=10, idle_timeout_s=None, clock=clock)
    kept = []
    for i in range(30):  # 30 frames over 1 s at 30 fps
        kept.append(src.push(image(i), i))
        clock.now += 1 / 30
    assert sum(kept) == 10 and src.thinned == 20 and src.dropped == 9  # nobody took them meanwhile


def test_take_gives_up_after_the_idle_timeout():
    clock = StepClock()
    src = PushSource(idle_timeout_s=5.0, clock=clock)
    src.push(image(1), 1)
    assert src.take(threading.Event()) is not None
    clock.now += 6.0
    assert src.take(threading.Event()) is None


def make_worker(hub: RunningHub, camera_id: str, src: PushSource) -> CameraWorker:
    cam = CameraConfig(camera_id=camera_id, source="browser", max_width=320, loop=False)
    client = ClientConfig(hub_url=hub.url, cameras=(cam,), status_interval_s=60)
    return CameraWorker(cam, client, capture_factory=src.capture_loop)


def cameras(hub: RunningHub) -> dict[str, dict]:
    return {c["camera_id"]: c for c in httpx.get(f"{hub.url}/api/v1/cameras").json()["cameras"]}


def test_pushed_frames_reach_the_hub_stamped_on_its_clock_and_stale_after_stop(clip_images):
    with RunningHub(stale_after_s=0.5) as hub:
        src = PushSource(idle_timeout_s=None)
        worker = make_worker(hub, "browser-unit", src)
        worker.start()
        try:
            pushed_at = []
            for k, img in enumerate(clip_images[:10]):
                pushed_at.append(time.time_ns())
                src.push(img, pushed_at[-1])
                # Paced like a camera, so every frame goes out once the clock is synchronised.
                wait_until(lambda k=k: worker.stats.captured > k, timeout=5)
                threading.Event().wait(0.03)
            assert wait_until(lambda: cameras(hub).get("browser-unit", {}).get("frames_total", 0) >= 5, 10)
            cam = cameras(hub)["browser-unit"]
            assert cam["online"] and (cam["width"], cam["height"]) == (320, 569)  # downscaled to max_width
            assert cam["clock_offset_ms"] is not None  # stamped with an NTP-style offset, not raw
            resp = httpx.get(f"{hub.url}/api/v1/cameras/browser-unit/frame")
            capture = int(resp.headers["X-Capture-Time-Ns"])
            # Loopback: the hub's clock is ours within the offset's uncertainty (+ 1 ms margin).
            bound = (abs(cam["clock_offset_ms"]) + cam["clock_uncertainty_ms"] + 1) * 1e6
            assert min(abs(capture - t) for t in pushed_at) <= bound
        finally:
            worker.stop()
            worker.join(2)
        assert not worker.is_alive() and worker.error is None
        assert wait_until(lambda: not cameras(hub)["browser-unit"]["online"], timeout=5)


def test_a_burst_is_dropped_not_queued_and_every_frame_is_accounted_for(clip_images):
    with RunningHub() as hub:
        src = PushSource(idle_timeout_s=None)
        worker = make_worker(hub, "browser-burst", src)
        worker.start()
        try:
            for img in clip_images:  # all at once: far faster than encode + upload
                src.push(img, time.time_ns())
            assert wait_until(lambda: worker.stats.sent + worker.stats.dropped == worker.stats.captured
                              and src.pushed == worker.stats.captured + src.dropped
                              and cameras(hub).get("browser-burst"), timeout=10)
        finally:
            worker.stop()
            worker.join(2)
        assert src.pushed == len(clip_images)
        assert src.dropped + worker.stats.dropped > 0
        assert worker.stats.sent < len(clip_images)
        assert cameras(hub)["browser-burst"]["frames_total"] == worker.stats.sent


def test_the_worker_ends_by_itself_when_frames_stop(clip_images):
    with RunningHub() as hub:
        src = PushSource(idle_timeout_s=0.5)
        worker = make_worker(hub, "browser-idle", src)
        worker.start()
        src.push(clip_images[0], time.time_ns())
        assert wait_until(lambda: not worker.is_alive(), timeout=5)
        assert worker.error is None
        assert cameras(hub)["browser-idle"]["frames_total"] == 1  # the last frame was flushed
