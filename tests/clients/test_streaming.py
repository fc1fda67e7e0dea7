"""Real camera client threads streaming real clips to a real hub on loopback."""

import signal
import subprocess
import sys
import time

import cv2
import httpx
import numpy as np
import pytest

from clients.config import CameraConfig, ClientConfig
from clients.runner import start_workers, stop_workers
from tests.support import ROOT, RunningHub, squat_clip, wait_until

SIDE = squat_clip("side_bodyweight_intellifit1.mp4")  # 540x960, 30 fps
FRONT = squat_clip("front_barbell_gymvision.mp4")  # 640x360, 30 fps

pytestmark = pytest.mark.skipif(not SIDE.exists(), reason=f"shared footage not found at {SIDE.parent}")


def config(hub_url, transport="http", **cams):
    return ClientConfig(hub_url=hub_url, transport=transport, status_interval_s=60,
                        cameras=tuple(CameraConfig(camera_id=k, **v) for k, v in cams.items()))


@pytest.fixture
def workers():
    started = []
    yield started
    assert stop_workers(started) == []


@pytest.mark.parametrize("transport", ["http", "ws"])
def test_clips_arrive_with_rising_seq_and_their_metadata(hub, workers, transport):
    workers += start_workers(config(hub.url, transport, side={"source": str(SIDE), "max_width": 320},
                                    front={"source": str(FRONT)}))
    assert wait_until(lambda: all((f := hub.store.latest(c)) and f.seq >= 10 for c in ("side", "front")))
    seqs = []
    with httpx.Client(base_url=hub.url) as http:
        for _ in range(8):
            r = http.get("/api/v1/cameras/side/frame")
            h = r.headers
            seqs.append(int(h["x-frame-seq"]))
            assert (h["x-frame-width"], h["x-frame-height"]) == ("320", "569")
            # Played in real time at the clip's own fps: frame index tracks the sequence
            # number (plus frames the hub never saw, which the store counts as gaps).
            assert int(h["x-source-frame"]) >= 0
            assert abs(int(h["x-capture-time-ns"]) - time.time_ns()) < 2e9
            decoded = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
            assert decoded.shape == (569, 320, 3)
            time.sleep(0.1)
        cams = {c["camera_id"]: c for c in http.get("/api/v1/cameras").json()["cameras"]}
    assert seqs == sorted(seqs) and seqs[-1] > seqs[0]
    assert cams["front"]["online"] and (cams["front"]["width"], cams["front"]["height"]) == (640, 360)
    # Only the latest frame and about a second of ring are kept, however long it streams.
    latest = hub.store.latest("side")
    ring = hub.store.ring("side")
    assert len(ring) <= 40 and latest in ring and ring[-1].seq >= latest.seq
    assert 25 <= cams["side"]["fps"] <= 35, cams["side"]
    first = hub.store.ring("front")[0]
    assert first.source_frame is not None and first.source_frame - first.seq >= 0


def test_stopped_camera_turns_stale_while_the_other_stays_online(workers):
    with RunningHub(stale_after_s=0.5) as hub:
        workers += start_workers(config(hub.url, side={"source": str(SIDE)}, front={"source": str(FRONT)}))
        assert wait_until(lambda: len(hub.store.cameras()) == 2)
        front = next(w for w in workers if w.config.camera_id == "front")
        assert stop_workers([front]) == []

        def online():
            return {c["camera_id"]: c["online"] for c in httpx.get(hub.url + "/api/v1/cameras").json()["cameras"]}

        assert wait_until(lambda: online() == {"front": False, "side": True}, timeout=5)


@pytest.mark.parametrize("transport", ["http", "ws"])
def test_clients_rejoin_a_restarted_hub_by_themselves(workers, transport):
    hub = RunningHub().start()
    try:
        workers += start_workers(config(hub.url, transport, side={"source": str(SIDE)}, front={"source": str(FRONT)}))
        assert wait_until(lambda: len(hub.store.cameras()) == 2)
        hub.stop()
        assert wait_until(lambda: all(w.stats.hub_up is False for w in workers), timeout=5)
        failed_before = [w.stats.failed for w in workers]
        hub = RunningHub(port=hub.port).start()
        assert wait_until(lambda: len(hub.store.cameras()) == 2, timeout=15)
        # The worker marks the hub up once the answer to its first upload is back: just after
        # the hub stored that frame.
        assert wait_until(lambda: all(w.stats.hub_up for w in workers), timeout=5)
        assert all(w.is_alive() for w in workers)
        assert [w.stats.failed for w in workers] >= failed_before
    finally:
        hub.stop()


def make_clip(path, frames=12, fps=30.0):
    """A short clip whose frame i is grey level 20*i, to check playback order."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), 20 * i, np.uint8))
    writer.release()
    return path


def test_file_without_loop_ends_after_its_last_frame(hub, workers, tmp_path):
    clip = make_clip(tmp_path / "short.mp4")
    received = []
    store = hub.app.state.store
    original_put = store.put

    async def put(frame):
        received.append(frame)
        return await original_put(frame)

    store.put = put
    workers += start_workers(config(hub.url, short={"source": str(clip), "loop": False}))
    assert wait_until(lambda: not workers[0].is_alive(), timeout=5)
    assert workers[0].error is None
    sources, seqs = [f.source_frame for f in received], [f.seq for f in received]
    # The clip is played to its end and its last frame sent. A frame the uploader was too slow for
    # is replaced in the size-1 mailbox (newest frame only, by design): then it is counted as a
    # drop, never lost silently, and the frames that went keep their order.
    stats = workers[0].stats
    assert sources[-1] == 11 and sources == sorted(set(sources)) and seqs == sorted(set(seqs)), (sources, seqs)
    assert stats.captured == len(received) + stats.dropped, (stats.captured, len(received), stats.dropped)
    assert len(received) >= 10, sources  # on an idle machine all 12; a drop is the exception
    spacing_ms = np.diff([f.capture_time_ns for f in received]) / 1e6
    assert 25 < np.median(spacing_ms) < 42  # real-time playback at 30 fps


def test_file_loops_by_default_and_seq_keeps_counting(hub, workers, tmp_path):
    clip = make_clip(tmp_path / "short.mp4", frames=6)
    workers += start_workers(config(hub.url, short={"source": str(clip)}))
    seen = []

    def looped():
        f = hub.store.latest("short")
        if f is not None and (not seen or seen[-1] != (f.seq, f.source_frame)):
            seen.append((f.seq, f.source_frame))
        return f is not None and f.seq >= 14

    assert wait_until(looped, timeout=5, interval=0.01)
    # Seq keeps counting across the loop while the source frame index wraps back to the start.
    # (Not seq % 6 == source: a late reader skips source frames to stay real-time, as it should.)
    assert all(b[0] > a[0] for a, b in zip(seen, seen[1:])), seen
    assert all(src is not None and 0 <= src < 6 for _, src in seen), seen
    assert any(b[1] < a[1] for a, b in zip(seen, seen[1:])), seen


def test_missing_file_is_retried_and_other_cameras_carry_on(hub, workers, tmp_path):
    workers += start_workers(config(hub.url, ghost={"source": str(tmp_path / "nope.mp4")},
                                    front={"source": str(FRONT)}))
    assert wait_until(lambda: hub.store.latest("front") is not None and hub.store.latest("front").seq > 5)
    assert all(w.is_alive() for w in workers)
    assert hub.store.latest("ghost") is None


def test_sigint_stops_every_camera_within_two_seconds(hub):
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "webcam_client.py"), "--hub", hub.url,
         "--camera", f"side={SIDE}", "--camera", f"front={FRONT}", "--transport", "ws"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert wait_until(lambda: len(hub.store.cameras()) == 2, timeout=20)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=2.0)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert "SIGINT received" in out and "Traceback" not in out
