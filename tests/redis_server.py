"""A real ``redis-server`` for the tests of the hub's Redis-backed state.

Each ``RedisServer`` runs Debian's ``redis-server`` on a free loopback port with persistence off
(a test's data lives as long as the test), in a temporary folder; ``kill()`` and ``start()`` again
on the same port simulate a Redis crash and restart. Tests skip, saying why, where the binary is
missing (``scripts/ensure_apt.sh`` installs it for ``make test``).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from tests.support import free_port

REDIS_SERVER = shutil.which("redis-server")


def require_redis_server() -> str:
    """The ``redis-server`` path; skips the calling test where it is not installed."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (scripts/ensure_apt.sh installs Debian's redis-server)")
    return REDIS_SERVER


class RedisServer:
    """One ``redis-server`` process on ``127.0.0.1:port``; a context manager that stops it."""

    def __init__(self, port: int | None = None, *extra_args: str) -> None:
        self.port = port or free_port()
        self.extra_args = extra_args
        self.dir = tempfile.mkdtemp(prefix="formsync-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Start it (again after ``kill``/``stop``, on the same port). Raises ``RuntimeError`` while
        it runs: a second server would fail to bind while the first went on unowned."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError(f"redis-server on port {self.port} is already running")
        binary = require_redis_server()
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--daemonize", "no", "--loglevel", "warning", *self.extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self.process.stderr.read().decode(errors='replace')}")
            if self._answers_ping():
                return self
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout} s")

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """``kill -9``: the server dies with whatever it held."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()

    def __enter__(self) -> RedisServer:
        return self.start()

    def close(self) -> None:
        """Stop it for good: its folder goes too."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __exit__(self, *exc) -> None:
        self.close()


STORES = ["embedded", "redis"]
"""The two implementations of the hub's stores; a module's ``hub`` fixture parametrized over them
runs its tests against both (``store_settings``)."""


def store_settings(request) -> dict:
    """Hub settings for ``request.param`` in ``STORES``: none (embedded), or the session's Redis,
    flushed (skips where redis-server is not installed)."""
    return {"redis_url": request.getfixturevalue("redis_url")} if request.param == "redis" else {}
