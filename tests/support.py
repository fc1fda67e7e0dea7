"""Test helpers: a real uvicorn hub on a free loopback port, and the shared footage."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import threading
import time
import warnings
from pathlib import Path

import uvicorn

from server.app import create_app
from server.cli import GRACEFUL_STOP_S
from server.settings import HubSettings
from server.store import FrameStore

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("FORMSYNC_DATA_DIR", ROOT.parent / "shared" / "data"))
SQUAT_DIR = DATA_DIR / "squat"


def squat_clip(name: str) -> Path:
    """Path of a clip in the shared footage, e.g. ``squat_clip("front_barbell_gymvision.mp4")``."""
    return SQUAT_DIR / name


def read_clip(name: str, count: int, width: int | None = None) -> list:
    """The first ``count`` BGR frames of squat clip ``name`` (``analysis.video.frames``), scaled to
    ``width`` px wide when given. Skips the test without the shared footage; fails if the clip is
    shorter."""
    import itertools

    import cv2
    import pytest

    from analysis.video import frames

    path = squat_clip(name)
    if not path.exists():
        pytest.skip(f"shared footage not found at {path}")
    out = []
    for image, _, _ in itertools.islice(frames(path), count):
        if width is not None:
            h, w = image.shape[:2]
            image = cv2.resize(image, (width, round(h * width / w)))
        out.append(image)
    assert len(out) == count, f"could not read {count} frames from {path}"
    return out


def jpeg(image, quality: int = 80) -> bytes:
    import cv2

    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningHub:
    """The hub app under a real uvicorn server in a background thread.

    ``stop()`` then ``start()`` again on the same port simulates a hub restart (with a fresh store
    unless one is passed in, like a restarted process). The SQLite database is a fresh temporary
    file per ``RunningHub`` (pass ``db_path`` to choose) and survives restarts, like a real one.
    """

    def __init__(self, port: int | None = None, store: FrameStore | None = None, **settings) -> None:
        self.port = port or free_port()
        settings.setdefault("db_path", str(Path(tempfile.mkdtemp(prefix="formsync-db-")) / "formsync.db"))
        # Adaptive quality cuts cameras' rates when the machine is busy, as a loaded test machine
        # is: tests that count frames would depend on the load. Its own tests turn it on.
        settings.setdefault("quality_adaptive", False)
        self.settings = HubSettings(port=self.port, **settings)
        self._given_store = store
        self.app = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def store(self) -> _StoreOnHubLoop:
        """The hub's frame store, its async methods called from the test's thread."""
        return _StoreOnHubLoop(self)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> RunningHub:
        self.app = create_app(self.settings, self._given_store)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False,
            ws_max_size=self.settings.max_frame_bytes + 8192,
            # As the hub's own command does: a response that never ends (an event stream whose
            # client went quiet) must not hold the stop up for good.
            timeout_graceful_shutdown=GRACEFUL_STOP_S,
        )
        self._server = server = uvicorn.Server(config)

        async def serve() -> None:
            self.loop = asyncio.get_running_loop()  # where _StoreOnHubLoop runs the store's methods
            await server.serve()

        def run() -> None:  # uvicorn.Server.run's loop (uvloop where installed), kept at hand
            with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
                runner.run(serve())

        self._thread = threading.Thread(target=run, name=f"hub:{self.port}", daemon=True)
        self._thread.start()
        started = threading.Event()
        # uvicorn offers no start callback; poll its flag with a bounded wait.
        for _ in range(int(timeout / 0.02)):
            if self._server.started or not self._thread.is_alive():
                break
            started.wait(0.02)
        if not self._server.started:
            raise RuntimeError(f"hub did not start on port {self.port}")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout)
            self._server = None
            if self._thread.is_alive():
                warnings.warn(f"hub on port {self.port} still running {timeout:.0f} s after its stop", stacklevel=2)

    def __enter__(self) -> RunningHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _StoreOnHubLoop:
    """``FrameStore``'s methods as plain calls, each run on the hub's event loop (10 s at most)."""

    def __init__(self, hub: RunningHub) -> None:
        self._hub = hub

    def __getattr__(self, name: str):
        method = getattr(self._hub.app.state.store, name)

        def call(*args, **kwargs):
            return asyncio.run_coroutine_threadsafe(method(*args, **kwargs), self._hub.loop).result(10)

        return call


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass; returns its last value."""
    pause = threading.Event()
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        pause.wait(interval)
