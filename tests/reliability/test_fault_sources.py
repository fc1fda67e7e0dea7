"""Camera sources that end, fail or hang, next to a healthy one in the same ``webcam_client.py``
process: the broken ones are reopened with backoff and the healthy camera carries on undisturbed.

The broken sources are real HTTP MJPEG streams (``multipart/x-mixed-replace``, what many IP
cameras serve), read by the client through OpenCV's FFmpeg backend, from a local aiohttp server:
``ends`` sends 1.5 s of frames and closes, ``errors`` answers 500, ``hangs`` sends 1 s of frames and
then nothing (the client's ``source_timeout_s`` turns the stall into a read error).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict

import cv2
import pytest
import yaml
from aiohttp import web

from tests.reliability.processes import HubProcess, cameras, start_client, stop
from tests.support import free_port, squat_clip, wait_until

CLIP = squat_clip("front_barbell_gymvision.mp4")
pytestmark = pytest.mark.skipif(not CLIP.exists(), reason=f"shared footage not found at {CLIP.parent}")

FPS = 30
SOURCE_TIMEOUT_S = 1.5
RUN_S = 14.0


class MjpegServer:
    """Serves the clip's frames as MJPEG streams that misbehave on purpose; records each request's time."""

    def __init__(self, jpegs: list[bytes]) -> None:
        self.jpegs = jpegs
        self.port = free_port()
        self.requests: dict[str, list[float]] = defaultdict(list)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mjpeg-server", daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}.mjpg"

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.requests[name].append(time.monotonic())
        if name == "errors":
            return web.Response(status=500, text="camera firmware error")
        resp = web.StreamResponse(headers={"Content-Type": "multipart/x-mixed-replace;boundary=frame"})
        await resp.prepare(request)
        frames = {"ends": int(1.5 * FPS), "hangs": FPS}[name]
        try:
            for i in range(frames):
                jpeg = self.jpegs[i % len(self.jpegs)]
                await resp.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
                                 % len(jpeg) + jpeg + b"\r\n")
                await asyncio.sleep(1 / FPS)
            # 'hangs': the connection stays open with nothing more on it, a stalled camera,
            # until the client gives up on it (its read timeout) or the server stops.
            while name == "hangs" and request.transport is not None and not request.transport.is_closing():
                await asyncio.sleep(0.1)
        except ConnectionError:  # the client gave up on the stream (e.g. its read timeout)
            pass
        return resp

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/{name}.mjpg", self._stream)
        # A short shutdown: the 'hangs' handler never returns by itself.
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> MjpegServer:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def clip_jpegs(count: int = 60) -> list[bytes]:
    cap = cv2.VideoCapture(str(CLIP))
    out = []
    while len(out) < count:
        ok, frame = cap.read()
        if not ok:
            break
        out.append(cv2.imencode(".jpg", cv2.resize(frame, (320, 180)))[1].tobytes())
    cap.release()
    return out


def test_broken_sources_are_reopened_with_backoff_while_the_healthy_camera_carries_on(tmp_path):
    server = MjpegServer(clip_jpegs()).start()
    hub = HubProcess(tmp_path).start()
    config = tmp_path / "cameras.yaml"
    config.write_text(yaml.safe_dump({"cameras": [
        {"camera_id": "good", "source": str(CLIP), "max_width": 320},
        *({"camera_id": name, "source": server.url(name), "source_timeout_s": SOURCE_TIMEOUT_S}
          for name in ("ends", "errors", "hangs")),
    ]}))
    client = start_client(hub.url, [], tmp_path / "client.log", "--config", str(config))
    samples: list[tuple[float, dict]] = []
    try:
        assert wait_until(lambda: cameras(hub.url).get("good", {}).get("frames_total", 0) > 0, 30)
        started = time.monotonic()
        while time.monotonic() - started < RUN_S:
            samples.append((time.monotonic(), cameras(hub.url)))
            assert client.poll() is None, "the client died"
            time.sleep(0.2)  # sampling period of the hub's camera list
    finally:
        stop(client)
        hub.stop()
        server.stop()
    log = (tmp_path / "client.log").read_text()
    assert client.returncode == 0 and "Traceback" not in log, log[-3000:]

    # The healthy camera never paused: frames every 1 s window, at a real-time rate.
    good = [(t, c["good"]["frames_total"]) for t, c in samples]
    for (t0, n0), (t1, n1) in zip(good, good[5:]):
        assert n1 > n0, f"the healthy camera stalled between {t0 - good[0][0]:.1f} s and {t1 - good[0][0]:.1f} s"
    assert (good[-1][1] - good[0][1]) / (good[-1][0] - good[0][0]) >= 10  # fps; 30 unloaded

    # 'ends' closes after 1.5 s: reopened again and again, each stream delivering frames.
    ends = server.requests["ends"]
    assert len(ends) >= 4, ends
    assert samples[-1][1]["ends"]["frames_total"] >= 3 * int(1.5 * 25) * 0.5
    # 'errors' never opens: retried with growing delays (0.25-0.5, 0.5-1, 1-2, 2-4 s, ... up to 10 s).
    gaps = [b - a for a, b in zip(server.requests["errors"], server.requests["errors"][1:])]
    assert len(gaps) >= 3 and gaps[:4] == sorted(gaps[:4]) and gaps[2] >= 2 * 0.25, gaps
    # 'hangs' stalls after 1 s of frames: the read timeout reopens it.
    hangs = server.requests["hangs"]
    assert len(hangs) >= 2, hangs
    assert 1.0 + SOURCE_TIMEOUT_S <= hangs[1] - hangs[0] <= 1.0 + SOURCE_TIMEOUT_S + 3.0, hangs
    assert samples[-1][1]["hangs"]["frames_total"] > FPS * 0.5 * 2 * 0.5
    assert "reopening in" in log
