"""``make demo``: start the hub, camera clients replaying real clips, and the dashboard.

Ctrl-C (or any child dying) stops everything it started.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("FORMSYNC_DATA_DIR", ROOT.parent / "shared" / "data"))
DEFAULT_SOURCES = (
    f"side={DATA_DIR / 'squat' / 'side_bodyweight_intellifit1.mp4'} "
    f"front={DATA_DIR / 'squat' / 'front_barbell_gymvision.mp4'}"
)
NO_DATA_HINT = (
    "demo: no sample footage at {dir}; use your webcam with `make demo SOURCES=0`, "
    "or your own clips with `make demo SOURCES=\"side=/path/side.mp4 front=/path/front.mp4\"`."
)


def camera_args(sources: str) -> list[str]:
    """``"side=a.mp4 0"`` -> ``["--camera", "side=a.mp4", "--camera", "webcam0=0"]``."""
    out = []
    for i, item in enumerate(shlex.split(sources)):
        if "=" not in item.split("://")[0]:
            name = f"webcam{item}" if item.isdigit() else re.sub(r"[^A-Za-z0-9_-]", "-", Path(item).stem)[:64]
            item = f"{name or f'cam{i}'}={item}"
        out += ["--camera", item]
    return out


def port_free(port: int) -> bool:
    with socket.socket() as s:
        # As uvicorn and Streamlit do: connections left in TIME_WAIT by a previous run don't count.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_http(url: str, timeout_s: float, proc: subprocess.Popen) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sources", default=os.environ.get("SOURCES") or "", help="camera sources, see README")
    p.add_argument("--hub-port", type=int, default=int(os.environ.get("HUB_PORT", 8000)))
    p.add_argument("--ui-port", type=int, default=int(os.environ.get("UI_PORT", 8501)))
    args = p.parse_args()

    sources = args.sources
    if not sources:
        if not (DATA_DIR / "squat").is_dir():
            print(NO_DATA_HINT.format(dir=DATA_DIR / "squat"))
            return 2
        sources = DEFAULT_SOURCES
    busy = [f"{name} port {port}" for name, port in (("HUB_PORT", args.hub_port), ("UI_PORT", args.ui_port))
            if not port_free(port)]
    if busy:
        print(f"demo: {' and '.join(busy)} already in use (another demo running?); "
              "pick others, e.g. `make demo HUB_PORT=8010 UI_PORT=8511`")
        return 1
    hub_url = f"http://127.0.0.1:{args.hub_port}"
    env = {**os.environ, "FORMSYNC_HUB_URL": hub_url, "PYTHONUNBUFFERED": "1"}
    py = sys.executable
    children: list[tuple[str, subprocess.Popen]] = []

    def start(name: str, cmd: list[str]) -> subprocess.Popen:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
        children.append((name, proc))
        return proc

    stop = threading.Event()
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda *_: stop.set())
    code = 0
    try:
        hub = start("hub", [py, "fastapi_server.py", "--host", "127.0.0.1", "--port", str(args.hub_port),
                            "--log-level", "warning"])
        if not wait_http(f"{hub_url}/healthz", 20, hub):
            print(f"demo: the hub did not come up on {hub_url} (is the port taken? try HUB_PORT=8010)")
            return 1
        start("worker", [py, "-m", "analysis.worker", "--hub", hub_url, "--status-interval", "30"])
        start("cameras", [py, "webcam_client.py", "--hub", hub_url, *camera_args(sources)])
        start("dashboard", [py, "-m", "streamlit", "run", "streamlit_app/app.py",
                            "--server.address", "127.0.0.1", "--server.port", str(args.ui_port),
                            "--server.headless", "true", "--browser.gatherUsageStats", "false"])
        print(f"\nFormSync demo\n  dashboard  http://127.0.0.1:{args.ui_port}\n  hub        {hub_url}  "
              f"(API docs {hub_url}/docs)\n  cameras    {sources}\nCtrl-C stops everything.\n", flush=True)
        while not stop.wait(0.5):
            dead = [(n, p.returncode) for n, p in children if p.poll() is not None]
            if dead:
                print(f"demo: {', '.join(f'{n} exited ({c})' for n, c in dead)}; stopping the rest")
                code = 1
                break
    finally:
        for _, proc in reversed(children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 5
        for _, proc in children:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
    return code


if __name__ == "__main__":
    sys.exit(main())
