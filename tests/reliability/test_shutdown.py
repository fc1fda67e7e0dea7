"""Stopping is normal: Ctrl-C on the demo stops every process within 5 s, each says one line, none
prints a traceback and none is left behind, with a browser on the Coach page or not; a hub told
twice to stop (a terminal's Ctrl-C and its supervisor's) still runs its shutdown and saves what it
holds; the demo's children die with it even when it is killed.

Real processes: ``scripts/demo.py`` (hub, worker, camera client, Streamlit) in its own session,
signalled as a terminal does (the whole foreground process group), and Debian's Chromium.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest
from websockets.sync.client import connect

from tests.reliability.processes import HubProcess, cameras
from tests.reliability.test_fault_set_storage import Locked, saved_ids
from tests.server.test_sets_api import a_set
from tests.support import ROOT, SQUAT_DIR, free_port, wait_until

STOP_BUDGET_S = 5.0
# Process start-up on 2 shared cores: MediaPipe, Streamlit and the pages import slowly.
START_TIMEOUT_S = 120


def test_a_hub_told_twice_to_stop_still_shuts_down_and_saves_its_sets(tmp_path):
    hub = HubProcess(tmp_path).start()
    db = tmp_path / "hub.db"
    held, in_flight = a_set(), a_set(ended=3 * 10**9)
    answers: list = []
    events = connect(hub.url.replace("http", "ws") + "/api/v1/events")  # an open connection to close
    try:
        with Locked(db):
            r = httpx.put(hub.url + "/api/v1/cameras/side/set", json=held, timeout=10).json()
            assert r["persisted"] is False  # held in memory
            # Another set's write waits on the lock while the hub is told to stop, twice (a terminal's
            # Ctrl-C and a supervisor forwarding it): the second signal must not cut it short.
            writer = threading.Thread(target=lambda: answers.append(
                httpx.put(hub.url + "/api/v1/cameras/side/set", json=in_flight, timeout=10)), name="put")
            writer.start()
            threading.Event().wait(0.3)  # the PUT is in the hub, waiting on the lock
            started = time.monotonic()
            hub.proc.send_signal(signal.SIGINT)
            threading.Event().wait(0.2)  # the first signal is handled: the hub waits for the PUT
            hub.proc.send_signal(signal.SIGINT)
        writer.join(10)  # the lock is gone: the write goes through
        hub.proc.wait(STOP_BUDGET_S + 5)
        took = time.monotonic() - started
    finally:
        events.close()
        hub.stop()
    log = hub.log()
    assert hub.proc.returncode == 0 and took < STOP_BUDGET_S, (hub.proc.returncode, took, log[-2000:])
    assert "Traceback" not in log and "CancelledError" not in log, log[-3000:]
    said = f"fastapi_server.py: hub on port {hub.port} stopped (SIGINT"
    assert [line for line in log.splitlines() if "stopped" in line] == [
        line for line in log.splitlines() if line.startswith(said)] and said in log
    assert answers and answers[0].status_code == 200  # answered, not dropped by a forced exit
    assert {held["set_id"], in_flight["set_id"]} <= saved_ids(db)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _alive(procs: list[psutil.Process]) -> list[str]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(f"{p.pid} {' '.join(p.cmdline()[1:3])}")
        except psutil.NoSuchProcess:
            pass
    return out


class DemoRun:
    """``scripts/demo.py`` on free ports in its own session (a terminal's foreground group)."""

    def __init__(self, tmp_path: Path, redis: bool = False) -> None:
        port = free_port()
        while redis and not _port_free(port + 1):  # REDIS=1 runs its second hub on the next port
            port = free_port()
        self.hub_urls = [f"http://127.0.0.1:{p}" for p in ([port, port + 1] if redis else [port])]
        self.hub_url, self.ui_port = self.hub_urls[0], free_port()
        self.log_path = tmp_path / "demo.log"
        env = {**os.environ, "FORMSYNC_HUB_DB_PATH": str(tmp_path / "hub.db"),
               "FORMSYNC_WORKER_SPOOL_DIR": str(tmp_path / "spool")}
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "scripts/demo.py", "--hub-port", str(port), "--ui-port", str(self.ui_port),
                 *(["--redis"] if redis else [])],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def children(self) -> list[psutil.Process]:
        return _tree(self.proc.pid)[1:]

    def running(self, analysing: bool = True, workers: int = 1) -> bool:
        """Everything up: dashboard, both cameras online, ``workers`` workers following a hub and,
        with ``analysing``, a result of each camera (before it, the worker may still be loading its
        models)."""
        if self.proc.poll() is not None:
            raise AssertionError(f"the demo exited ({self.proc.returncode}):\n{self.log()[-3000:]}")
        try:
            if httpx.get(self.ui_url + "/_stcore/health", timeout=1).status_code != 200:
                return False
            procs = httpx.get(self.hub_url + "/api/v1/heartbeats", timeout=1).json()["processes"]
            following = sum(p["role"] == "worker" and not p["lost"] and bool((p.get("worker") or {}).get("following"))
                            for p in procs)
            analysed = all(httpx.get(f"{self.hub_url}/api/v1/cameras/{c}/analysis", timeout=1).status_code == 200
                           for c in (("side", "front") if workers > 1 else ("side",)))
        except (httpx.HTTPError, ValueError, KeyError):
            return False
        cams = cameras(self.hub_url)
        return following >= workers and (analysed or not analysing) and all(
            cams.get(c, {}).get("online") for c in ("side", "front"))

    def ctrl_c(self, processes: list[psutil.Process]) -> tuple[float, list[str]]:
        """Ctrl-C in the demo's terminal (its whole process group): the seconds it took to exit,
        and those of ``processes`` still running then."""
        started = time.monotonic()
        os.killpg(self.proc.pid, signal.SIGINT)
        self.proc.wait(STOP_BUDGET_S + 10)
        return time.monotonic() - started, _alive(processes)

    def kill(self) -> None:
        for p in reversed(_tree(self.proc.pid)):
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        self.proc.wait(10)


def _chromium_page(pw, ui_url: str, title: str = "Coach"):
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS
    from tests.e2e.dashboard import open_app

    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (make test installs it: scripts/ensure_apt.sh)")
    browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    open_app(page, ui_url, title)
    return browser, page


@pytest.mark.skipif(not SQUAT_DIR.is_dir(), reason=f"shared footage not found at {SQUAT_DIR}")
@pytest.mark.parametrize("with_browser", [False, True], ids=["no-browser", "browser-on-coach"])
def test_ctrl_c_stops_the_demo_within_5_s_quietly_and_completely(tmp_path, with_browser):
    demo = DemoRun(tmp_path)
    pw = browser = None
    try:
        # Without a browser it is stopped as early as it can be (the worker possibly still loading
        # MediaPipe); with one, once the Coach page shows analysed frames.
        assert wait_until(lambda: demo.running(analysing=with_browser), START_TIMEOUT_S, 0.5), \
            demo.log()[-3000:]
        if with_browser:
            sync_api = pytest.importorskip("playwright.sync_api")
            pw = sync_api.sync_playwright().start()
            browser, page = _chromium_page(pw, demo.ui_url)
            from tests.e2e.dashboard import live_canvases

            # The page is live, not just loaded: its live view paints frames (the skeletons drawn
            # over them are tests/e2e/test_live_view.py's concern).
            assert wait_until(lambda: [c for c in live_canvases(page) if c["capture_ns"]], 60, 0.5)
        processes = _tree(demo.proc.pid)
        assert len(processes) == 5, [p.cmdline() for p in processes]  # demo, hub, worker, cameras, dashboard
        took, left = demo.ctrl_c(processes)
    finally:
        if browser is not None:
            browser.close()
        if pw is not None:
            pw.stop()
        if demo.proc.poll() is None:
            demo.kill()
    log = demo.log()
    print(f"demo stopped in {took:.2f} s ({'with' if with_browser else 'without'} a browser)")
    assert demo.proc.returncode == 0 and took < STOP_BUDGET_S and not left, (took, left, log[-3000:])
    tail = log.split("Ctrl-C stops everything.")[-1]
    assert "Traceback" not in log and " ERROR " not in tail, tail[-4000:]
    # One line from each: dashboard (Streamlit), camera client, worker, hub, and the demo itself.
    port = demo.hub_url.rsplit(":", 1)[1]
    for line in ("  Stopping...", "received, stopping 2 camera(s)", "INFO stopped in ",
                 f"fastapi_server.py: hub on port {port} stopped",
                 "demo: stopped (hub, worker, cameras, dashboard)"):
        assert tail.count(line) == 1, (line, tail[-3000:])


@pytest.mark.skipif(not SQUAT_DIR.is_dir(), reason=f"shared footage not found at {SQUAT_DIR}")
@pytest.mark.parametrize("redis", [False, True], ids=["demo", "demo-redis"])
def test_the_demos_children_stop_when_it_is_killed(tmp_path, redis):
    if redis and shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make test installs it: scripts/ensure_apt.sh)")
    demo = DemoRun(tmp_path, redis=redis)
    # hub, worker, cameras, dashboard; REDIS=1: redis-server, two hubs, two workers, cameras, dashboard
    expected = 7 if redis else 4
    children: list[psutil.Process] = []
    try:
        assert wait_until(lambda: len(demo.children()) == expected or demo.proc.poll() is not None,
                          START_TIMEOUT_S, 0.2), demo.log()[-3000:]
        children = demo.children()
        demo.proc.kill()  # no chance to stop them
        demo.proc.wait(10)
        gone = wait_until(lambda: not _alive(children), STOP_BUDGET_S + 5, 0.1)
        left = _alive(children)
    finally:
        for p in children:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
    assert len(children) == expected and gone, f"left running after the demo was killed: {left}"


def _served_by(page, hubs: list[str]) -> dict[str, tuple[str, str]]:
    """The Monitor page's camera rows: ``{camera: (hub, worker)}`` for cameras with both cells."""
    from tests.e2e.dashboard import grid_rows

    short = {url.split("://", 1)[1] for url in hubs}
    workers = {"worker-1", "worker-2"}
    out = {}
    for row in grid_rows(page):
        if row and row[0] in ("side", "front"):
            hub = next((c for c in row if c in short), None)
            worker = next((c for c in row if c in workers), None)
            if hub and worker:
                out[row[0]] = (hub, worker)
    return out


@pytest.mark.skipif(not SQUAT_DIR.is_dir(), reason=f"shared footage not found at {SQUAT_DIR}")
def test_the_redis_demo_shares_the_cameras_between_two_hubs_and_two_workers_and_stops_cleanly(tmp_path):
    """``make demo REDIS=1``: a local redis-server, two hubs and two workers; any hub serves any
    camera, each camera is analysed by one of the workers, the Monitor page names the hub and the
    worker of each camera, and Ctrl-C stops all of it, redis-server last, within the budget."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make test installs it: scripts/ensure_apt.sh)")
    sync_api = pytest.importorskip("playwright.sync_api")
    demo = DemoRun(tmp_path, redis=True)
    pw = browser = None
    try:
        assert wait_until(lambda: demo.running(analysing=True, workers=2), START_TIMEOUT_S, 0.5), \
            demo.log()[-3000:]
        for url in demo.hub_urls:  # state is shared: either hub answers for every camera
            for cam in ("side", "front"):
                assert httpx.get(f"{url}/api/v1/cameras/{cam}/frame", timeout=5).status_code == 200
                assert httpx.get(f"{url}/api/v1/cameras/{cam}/analysis", timeout=5).status_code == 200
        leases = httpx.get(demo.hub_urls[1] + "/api/v1/leases", timeout=5).json()["leases"]
        holders = {lease["camera_id"]: lease["worker_id"] for lease in leases}
        assert set(holders) == {"side", "front"} and set(holders.values()) <= {"worker-1", "worker-2"}, leases
        pw = sync_api.sync_playwright().start()
        browser, page = _chromium_page(pw, demo.ui_url, "Monitor")
        assert wait_until(lambda: set(_served_by(page, demo.hub_urls)) == {"side", "front"}, 30, 0.5), \
            page.locator('[data-testid="stMain"]').inner_text()[:3000]
        processes = _tree(demo.proc.pid)
        names = sorted(" ".join(p.cmdline()[1:3]) for p in processes)
        # demo, redis-server, two hubs, two workers, cameras, dashboard
        assert len(processes) == 8 and sum("redis-server" in p.name() for p in processes) == 1, names
        took, left = demo.ctrl_c(processes)
    finally:
        if browser is not None:
            browser.close()
        if pw is not None:
            pw.stop()
        if demo.proc.poll() is None:
            demo.kill()
    log = demo.log()
    assert demo.proc.returncode == 0 and took < STOP_BUDGET_S and not left, (took, left, log[-3000:])
    assert "Traceback" not in log, log[-4000:]
    assert "demo: stopped (hub, hub-2, worker, worker-2, cameras, dashboard)" in log, log[-3000:]
