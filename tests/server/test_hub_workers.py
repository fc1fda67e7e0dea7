"""``fastapi_server.py --workers N``: N hub processes on one port, sharing the cameras through Redis."""

import os
import signal
import subprocess
import sys
import time

import httpx
import psutil

from tests.conftest import synthetic_jpeg
from tests.support import ROOT, free_port, wait_until


def hub_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSYNC_HUB_")}
    return {**env, "PYTHONUNBUFFERED": "1", "FORMSYNC_HUB_DB_PATH": str(tmp_path / "hub.db"), **extra}


def test_several_workers_without_redis_are_refused_naming_the_setting(tmp_path):
    run = subprocess.run([sys.executable, "fastapi_server.py", "--workers", "2", "--port", str(free_port())],
                         cwd=ROOT, env=hub_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "FORMSYNC_HUB_REDIS_URL" in run.stderr


def test_two_hub_processes_on_one_port_serve_every_camera(tmp_path, redis_url):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "hub.log").open("w")
    env = hub_env(tmp_path, FORMSYNC_HUB_REDIS_URL=redis_url, FORMSYNC_HUB_UPLOAD_RATE_FACTOR="0")
    proc = subprocess.Popen([sys.executable, "fastapi_server.py", "--workers", "2", "--port", str(port)], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        def healthy():
            try:
                return httpx.get(url + "/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_until(healthy, 60), (tmp_path / "hub.log").read_text()
        assert wait_until(lambda: len(psutil.Process(proc.pid).children()) >= 2, 30)
        t0 = time.time_ns()
        for seq in range(10):  # a fresh connection each: the kernel spreads them over the processes
            r = httpx.post(f"{url}/api/v1/cameras/side/frames", content=synthetic_jpeg(seq), timeout=5,
                           headers={"X-Capture-Time-Ns": str(t0 + seq * 33_000_000), "X-Frame-Seq": str(seq)})
            assert r.status_code == 201, r.text
        for _ in range(10):
            latest = httpx.get(f"{url}/api/v1/cameras/side/frame", timeout=5)
            assert latest.headers["x-frame-seq"] == "9" and latest.content == synthetic_jpeg(9)
            (cam,) = httpx.get(f"{url}/api/v1/cameras", timeout=5).json()["cameras"]
            assert (cam["camera_id"], cam["frames_total"], cam["gaps"]) == ("side", 10, 0)
        # Each process reports its own heartbeat, under an id naming its pid (the supervisor's
        # children also include multiprocessing's resource tracker).
        pids = {f"p{c.pid}" for c in psutil.Process(proc.pid).children()}

        def hub_heartbeats() -> set[str]:
            listed = httpx.get(f"{url}/api/v1/heartbeats", timeout=5).json()["processes"]
            # Only this port's hubs: the shared Redis may still hold an earlier test's hub heartbeat.
            return {p["process_id"].rsplit("+", 1)[-1] for p in listed
                    if p["role"] == "hub" and p["process_id"].split("+")[0].endswith(f":{port}")}

        assert wait_until(lambda: len(hub_heartbeats()) == 2 and hub_heartbeats() <= pids, 15), \
            (hub_heartbeats(), pids)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        finally:
            log.close()
