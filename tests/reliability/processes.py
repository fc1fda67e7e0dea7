"""Real processes for the fault tests: the hub (``fastapi_server.py``), camera clients
(``webcam_client.py``) and analysis workers (``python -m analysis.worker``), each logging to a file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support import ROOT, free_port, wait_until

STOP_TIMEOUT_S = 10.0


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.update(extra or {})
    return env


def stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    """Signal ``proc`` (SIGTERM by default) and wait; SIGKILL if it has not exited in time."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(STOP_TIMEOUT_S)


class HubProcess:
    """The hub as a real process on a fixed loopback port, restartable (a fresh process each time,
    same SQLite file). ``env``: extra ``FORMSYNC_HUB_*`` settings."""

    def __init__(self, tmp_path: Path, port: int | None = None, env: dict[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.log_path = tmp_path / f"hub-{self.port}.log"
        # Adaptive quality off, as in tests.support.RunningHub: a busy test machine would otherwise
        # cut the cameras' rates, and these tests count frames and sets.
        self.env = {"FORMSYNC_HUB_DB_PATH": str(tmp_path / "hub.db"), "FORMSYNC_HUB_QUALITY_ADAPTIVE": "false",
                    **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def healthy(self) -> bool:
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self, timeout: float = 30.0) -> HubProcess:
        self.starts += 1
        log = self.log_path.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, "fastapi_server.py", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=_env(self.env), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        if not wait_until(lambda: self.healthy() or self.proc.poll() is not None, timeout, 0.05) \
                or self.proc.poll() is not None:
            raise RuntimeError(f"hub did not start (exit {self.proc.poll()}):\n{self.log()[-3000:]}")
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye, like a crash or a pulled plug."""
        self.proc.kill()
        self.proc.wait(STOP_TIMEOUT_S)

    def stop(self) -> None:
        stop(self.proc)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start_client(hub_url: str, cameras: list[str], log_path: Path, *args: str,
                 env: dict[str, str] | None = None) -> subprocess.Popen:
    """``webcam_client.py`` with ``--camera`` per entry of ``cameras`` (``id=source``)."""
    argv = [sys.executable, "webcam_client.py", "--hub", hub_url, "--status-interval", "60", "--log-level", "INFO"]
    for cam in cameras:
        argv += ["--camera", cam]
    with log_path.open("a") as log:
        return subprocess.Popen([*argv, *args], cwd=ROOT, env=_env(env), stdout=log, stderr=subprocess.STDOUT)


def start_worker(hub_url: str, log_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``python -m analysis.worker`` (pose only, no gaze: the fault tests need results, not faces)."""
    argv = [sys.executable, "-m", "analysis.worker", "--hub", hub_url, "--no-gaze", "--status-interval", "60",
            *args]
    with log_path.open("a") as log:
        return subprocess.Popen(argv, cwd=ROOT, env=_env(env), stdout=log, stderr=subprocess.STDOUT)


def cameras(hub_url: str, headers: dict | None = None) -> dict[str, dict]:
    """``GET /api/v1/cameras`` by id; {} while the hub cannot be asked."""
    try:
        r = httpx.get(hub_url + "/api/v1/cameras", headers=headers, timeout=2)
    except httpx.HTTPError:
        return {}
    return {c["camera_id"]: c for c in r.json()["cameras"]} if r.status_code == 200 else {}

