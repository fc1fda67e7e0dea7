"""``make demo``: start the hub, camera clients replaying real clips, the analysis worker and the
dashboard.

``make demo REDIS=1``: the hubs' shared state in a local ``redis-server`` (started here, stopped
last), two hub processes (``HUB_PORT`` and the next port) and two workers, one following each hub;
the cameras stream to the first hub, and cameras and workers move to the other hub if theirs goes
(``--hub`` twice). The
Monitor page shows which hub and which worker serve each camera.

The clip cameras are started as one rig (``--start-at`` a few seconds ahead, on the hub's clock):
frame ``i`` of every clip is captured at the same moment, so the cameras' frames, and the frames
each keeps when the hub lowers its fps, pair into sync sets at the camera rate, as genlocked
cameras' would. Started apart, the two clips' frames sit a random fraction of a frame apart and
at a lowered fps about half of them find no partner within the hub's sync spread.

Ctrl-C (or any child dying) stops everything it started within 5 s: the dashboard, the cameras
and the worker first (so the worker's last sets still reach the hub), then the hub; a process that
has not exited by then is killed, and so is everything at a second Ctrl-C. The children run in
their own process group, so a terminal's Ctrl-C reaches only this script, which tells each child
once (SIGTERM); each is also told to stop if this script dies without stopping them.
"""

from __future__ import annotations

import argparse
import ctypes
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


CAMERA_START_DELAY_S = 3.0
"""From starting the camera client to its clips' frame 0: the client's start-up and first clock
sync took 0.8-1.4 s in bench/display.py's demo runs; a later sync only skips the frames already
due, on every camera alike."""


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


STOP_BUDGET_S = 5.0
CONSUMERS_STOP_S = 4.0  # of the budget: the worker may spend ~3.5 s sending its last sets
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the demo dies, however it dies (Linux only)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: Ctrl-C still stops every child
        pass


def wait_all(procs: list[subprocess.Popen], timeout_s: float, force: threading.Event) -> None:
    """Until every process exited, ``timeout_s`` passed, or ``force`` is set."""
    deadline = time.monotonic() + timeout_s
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline and not force.is_set():
        force.wait(0.05)


def stop_children(children: list[tuple[str, subprocess.Popen]], force: threading.Event) -> list[str]:
    """Stop the children within ``STOP_BUDGET_S``: consumers, then the hub. Returns those killed."""
    started = time.monotonic()
    hub = [p for n, p in children if n.startswith("hub")]
    consumers = [p for n, p in children if not n.startswith("hub")]
    for group, budget in ((consumers, CONSUMERS_STOP_S), (hub, STOP_BUDGET_S)):
        for proc in group:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        wait_all(group, budget - (time.monotonic() - started), force)
    killed = []
    for name, proc in children:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
            killed.append(name)
    return killed


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sources", default=os.environ.get("SOURCES") or "", help="camera sources, see README")
    p.add_argument("--hub-port", type=int, default=int(os.environ.get("HUB_PORT", 8000)))
    p.add_argument("--ui-port", type=int, default=int(os.environ.get("UI_PORT", 8501)))
    p.add_argument("--redis", action="store_true", default=os.environ.get("REDIS", "") not in ("", "0"),
                   help="two hubs sharing a local redis-server, and two workers (REDIS=1)")
    args = p.parse_args()

    sources = args.sources
    if not sources:
        if not (DATA_DIR / "squat").is_dir():
            print(NO_DATA_HINT.format(dir=DATA_DIR / "squat"))
            return 2
        sources = DEFAULT_SOURCES
    ports = [("HUB_PORT", args.hub_port), ("UI_PORT", args.ui_port)]
    if args.redis:
        ports.insert(1, ("HUB_PORT + 1", args.hub_port + 1))
    busy = [f"{name} port {port}" for name, port in ports if not port_free(port)]
    if busy:
        print(f"demo: {' and '.join(busy)} already in use (another demo running?); "
              "pick others, e.g. `make demo HUB_PORT=8010 UI_PORT=8511`")
        return 1
    hub_url = f"http://127.0.0.1:{args.hub_port}"
    hub_urls = [hub_url, f"http://127.0.0.1:{args.hub_port + 1}"] if args.redis else [hub_url]
    env = {**os.environ, "FORMSYNC_HUB_URL": hub_url, "PYTHONUNBUFFERED": "1"}
    redis = None
    if args.redis:
        from server.shared_state.local import LocalRedis, RedisNotInstalled

        try:
            redis = LocalRedis(preexec_fn=_die_with_parent).start()
        except (RedisNotInstalled, RuntimeError) as exc:
            print(f"demo: {exc}")
            return 1
        env["FORMSYNC_HUB_REDIS_URL"] = redis.url
    py = sys.executable
    children: list[tuple[str, subprocess.Popen]] = []

    def start(name: str, cmd: list[str]) -> subprocess.Popen:
        # preexec_fn is unsafe with threads running; this script starts none.
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, process_group=0,
                                preexec_fn=_die_with_parent)
        children.append((name, proc))
        return proc

    stop, force = threading.Event(), threading.Event()

    def on_signal(signum, _frame) -> None:
        (force if stop.is_set() else stop).set()

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    code = 0
    try:
        for i, url in enumerate(hub_urls):
            hub = start("hub" if i == 0 else f"hub-{i + 1}", [
                py, "fastapi_server.py", "--host", "127.0.0.1", "--port", url.rsplit(":", 1)[1],
                "--log-level", "warning"])
            if not wait_http(f"{url}/healthz", 20, hub):
                print(f"demo: the hub did not come up on {url} (is the port taken? try HUB_PORT=8010)")
                return 1
        for i in range(len(hub_urls)):
            worker_id = ["--worker-id", f"worker-{i + 1}"] if args.redis else []
            # Each worker prefers its own hub and moves to the other when that one goes away.
            hubs = [a for u in hub_urls[i:] + hub_urls[:i] for a in ("--hub", u)]
            start("worker" if i == 0 else f"worker-{i + 1}",
                  [py, "-m", "analysis.worker", *hubs, *worker_id, "--status-interval", "30"])
        start("cameras", [py, "webcam_client.py", *[a for url in hub_urls for a in ("--hub", url)],
                          *camera_args(sources),
                          "--start-at", f"{time.time() + CAMERA_START_DELAY_S:.3f}"])
        start("dashboard", [py, "-m", "streamlit_app.serve",
                            "--server.address", "127.0.0.1", "--server.port", str(args.ui_port),
                            "--server.headless", "true", "--browser.gatherUsageStats", "false"])
        shared = f"\n  redis      {redis.url} (hubs {' and '.join(hub_urls)}, workers worker-1 and worker-2)" \
            if redis else ""
        print(f"\nFormSync demo\n  dashboard  http://127.0.0.1:{args.ui_port}\n  hub        {hub_url}  "
              f"(API docs {hub_url}/docs){shared}\n  cameras    {sources}\nCtrl-C stops everything.\n", flush=True)
        while not stop.wait(0.5):
            dead = [(n, p.returncode) for n, p in children if p.poll() is not None]
            if dead:
                print(f"demo: {', '.join(f'{n} exited ({c})' for n, c in dead)}; stopping the rest")
                code = 1
                break
    finally:
        stopping = time.monotonic()
        killed = stop_children(children, force)
        took = time.monotonic() - stopping
        if killed:
            print(f"demo: stopped in {took:.1f} s; killed {', '.join(killed)} (not stopped in time)",
                  flush=True)
        elif children:
            print(f"demo: stopped ({', '.join(n for n, _ in children)}) in {took:.1f} s", flush=True)
        if redis is not None:  # last: the hubs' final writes go to it
            redis.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
