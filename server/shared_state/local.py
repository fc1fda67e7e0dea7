"""A local ``redis-server`` for one machine's runs: ``make demo REDIS=1`` and the benchmarks.

Production hubs use an existing Redis (README, *Running with Redis*); this starts Debian's
``redis-server`` on a loopback port in a folder of its own, with persistence off (a demo's or a
benchmark's state lives as long as the run), and stops it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable


class RedisNotInstalled(RuntimeError):
    """No ``redis-server`` on PATH (``scripts/ensure_apt.sh`` installs Debian's)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalRedis:
    """``with LocalRedis() as redis: redis.url`` -> ``redis://127.0.0.1:PORT/0``.

    Raises ``RedisNotInstalled`` without the binary, ``RuntimeError`` when it does not answer
    ``PING`` within ``timeout_s`` (its stderr in the message)."""

    def __init__(self, port: int | None = None, timeout_s: float = 10.0,
                 preexec_fn: Callable[[], None] | None = None) -> None:
        self.port = port or _free_port()
        self.timeout_s = timeout_s
        # e.g. the demo's "die with me" (PR_SET_PDEATHSIG): a killed demo leaves no server behind.
        self.preexec_fn = preexec_fn
        self.dir = tempfile.mkdtemp(prefix="formsync-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> LocalRedis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisNotInstalled(
                "redis-server is not installed (sh scripts/ensure_apt.sh redis-server=redis-server installs it)")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--daemonize", "no", "--loglevel", "warning"],
            # Its own process group: a terminal's Ctrl-C reaches the program that started it, which
            # stops it after the hubs (their last writes go to it).
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, process_group=0, preexec_fn=self.preexec_fn)
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self.process.stderr.read().decode(errors='replace')}")
            if self._answers():
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {self.timeout_s} s")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> LocalRedis:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
