"""The browser camera's video sink, driven with real clip frames as streamlit-webrtc calls it,
against a real hub on loopback (its preview, the live view in Chromium: tests/e2e)."""

from __future__ import annotations

import threading

import av
import httpx
import pytest

from streamlit_app.browser_camera.sender import PREFIX, BrowserCamera, camera_id_for
from tests.support import RunningHub, read_clip, wait_until


@pytest.fixture(scope="module")
def clip_frames() -> list[av.VideoFrame]:
    """Twenty real frames (480 px wide) of a squat clip as the video frames the browser sends."""
    return [av.VideoFrame.from_ndarray(image, format="bgr24")
            for image in read_clip("side_bodyweight_intellifit1.mp4", 20, width=480)]


def sender_threads(camera_id: str) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.endswith(camera_id) and t.is_alive()]


def camera_state(hub: RunningHub, camera_id: str) -> dict | None:
    cams = httpx.get(f"{hub.url}/api/v1/cameras").json()["cameras"]
    return next((c for c in cams if c["camera_id"] == camera_id), None)


def heartbeat_ids(hub: RunningHub) -> list[str]:
    return [p["process_id"] for p in httpx.get(f"{hub.url}/api/v1/heartbeats").json()["processes"]]


@pytest.mark.parametrize("name", ["laptop", "a", "x" * (64 - len(PREFIX)), "cam_2-b"])
def test_names_become_ids_the_hub_accepts(name):
    camera_id = camera_id_for(f" {name} ")
    assert camera_id == PREFIX + name and len(camera_id) <= 64


@pytest.mark.parametrize("name", ["", "   ", "two words", "é", "x" * (65 - len(PREFIX)), "a/b"])
def test_bad_names_are_refused_with_the_rule(name):
    with pytest.raises(ValueError, match="letters, digits"):
        camera_id_for(name)


def test_frames_before_start_are_not_sent(hub, clip_frames):
    camera = BrowserCamera("browser-idle", hub.url)
    camera.video_frame_sink(clip_frames[0])
    assert not camera.running and sender_threads("browser-idle") == []
    assert camera.status().state == "idle"


def test_streams_to_the_hub_and_stops_on_ended(clip_frames):
    with RunningHub(stale_after_s=0.5) as hub:
        camera = BrowserCamera("browser-tab", hub.url)
        camera.start()
        try:
            for k, frame in enumerate(clip_frames):
                camera.video_frame_sink(frame)
                threading.Event().wait(1 / 30)
                if k == 5:
                    camera.status()  # the page polls it: the first sample of the fps window
            assert wait_until(lambda: (camera_state(hub, "browser-tab") or {}).get("frames_total", 0) >= 3,
                              timeout=10)
            # Every frame from the browser is either sent or dropped (no fps cap here, no 4xx).
            assert wait_until(lambda: (s := camera.status()).received == s.sent + s.dropped, timeout=5)
            status = camera.status()
            assert status.state == "streaming" and status.received == len(clip_frames)
            assert status.sent >= 3 and status.hub_up is True and status.clock_offset_ms is not None
            assert status.sent_fps > 0 and status.error is None
            assert sender_threads("browser-tab")  # camera:, capture: and heartbeat: threads
            assert wait_until(lambda: any(p.endswith(":browser-tab") for p in heartbeat_ids(hub)), 5)
        finally:
            camera.on_ended()  # what streamlit-webrtc calls when the track ends (Stop, tab closed)
        assert camera.join(3.0) and sender_threads("browser-tab") == []
        assert camera.status().state == "stopped"
        assert wait_until(lambda: not camera_state(hub, "browser-tab")["online"], timeout=5)
        # Stopped on purpose: the heartbeat said goodbye instead of going "lost".
        assert not any(p.endswith(":browser-tab") for p in heartbeat_ids(hub))
        # Frames still in flight after the end are not uploaded.
        sent = camera.status().sent
        camera.video_frame_sink(clip_frames[0])
        assert not camera.running and camera.status().sent == sent


def test_the_sender_ends_when_frames_stop_and_restarts_with_the_next(hub, clip_frames):
    camera = BrowserCamera("browser-flaky", hub.url, idle_timeout_s=0.3)
    camera.start()
    try:
        camera.video_frame_sink(clip_frames[0])
        assert camera.running
        assert wait_until(lambda: not camera.running, timeout=5)  # a tab that vanished silently
        assert wait_until(lambda: sender_threads("browser-flaky") == [], timeout=5)
        camera.video_frame_sink(clip_frames[1])
        assert camera.running
    finally:
        camera.stop()
    assert camera.join(3.0)
