"""Dashboard load: how busy Streamlit is while one page shows the live demo in a real browser.

Starts ``scripts/demo.py`` (hub, analysis worker, two clip cameras, Streamlit) on free loopback
ports, opens each page named on the command line in headless Debian Chromium, and over
``--seconds`` prints per page:

- "running" share: the share of 100 ms samples in which Streamlit's status widget showed that a
  script run was in progress. A page whose live fragments cannot finish between two refreshes
  shows it all the time and never looks loaded (what made the e2e tests time out on the Coach page);
- Streamlit CPU %: the Streamlit process over the same time (psutil, 100 % = one core).

    .venv/bin/python -m bench.dashboard                    # Live, Monitor and Coach, 30 s each
    .venv/bin/python -m bench.dashboard Coach --seconds 60

Needs Playwright and Chromium (``sh scripts/ensure_chromium.sh``) and the shared footage.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS
from tests.support import free_port

ROOT = Path(__file__).resolve().parent.parent

SAMPLE_S = 0.1
WARM_UP_S = 15.0  # the worker loads MediaPipe and the default reference before results flow


def wait_http(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout_s:.0f} s")


def stop_demo(demo: subprocess.Popen) -> None:
    """Ctrl-C to the demo's process group (a graceful stop), SIGKILL if it outlives 20 s."""
    os.killpg(demo.pid, signal.SIGINT)
    try:
        demo.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(demo.pid, signal.SIGKILL)


def streamlit_process(demo: subprocess.Popen) -> psutil.Process:
    for child in psutil.Process(demo.pid).children(recursive=True):
        if "streamlit" in " ".join(child.cmdline()):
            return child
    raise SystemExit("the demo started no Streamlit process")


def measure(page, ui_url: str, title: str, seconds: float, st_proc: psutil.Process) -> tuple[int, int, float]:
    """(samples with the status widget shown, samples, Streamlit CPU %) while ``title`` is open."""
    page.goto(ui_url)
    page.locator('[data-testid="stSidebarNavLink"]', has_text=title).first.click()
    page.locator('[data-testid="stMain"] h1', has_text=title).first.wait_for(timeout=60_000)
    st_proc.cpu_percent()
    shown = samples = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        samples += 1
        shown += page.locator('[data-testid="stStatusWidget"]').is_visible()
        time.sleep(SAMPLE_S)
    return shown, samples, st_proc.cpu_percent()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("pages", nargs="*", default=["Live", "Monitor", "Coach"], help="page titles")
    p.add_argument("--seconds", type=float, default=30.0, help="sampling time per page")
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    hub_port, ui_port = free_port(), free_port()
    tmp = Path(tempfile.mkdtemp(prefix="formsync-bench-dashboard-"))
    env = {**os.environ, "FORMSYNC_HUB_DB_PATH": str(tmp / "formsync.db"),
           "FORMSYNC_FEEDBACK_PROVIDER": "offline"}
    with open(tmp / "demo.log", "wb") as log:
        demo = subprocess.Popen([sys.executable, "scripts/demo.py", "--hub-port", str(hub_port),
                                 "--ui-port", str(ui_port)], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    ui_url = f"http://127.0.0.1:{ui_port}"
    try:
        wait_http(f"{ui_url}/_stcore/health", 90)
        time.sleep(WARM_UP_S)
        st_proc = streamlit_process(demo)
        print(f"{'page':<10} {'running shown':>16} {'Streamlit CPU':>14}")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
            page = browser.new_page()
            for title in args.pages:
                shown, samples, cpu = measure(page, ui_url, title, args.seconds, st_proc)
                print(f"{title:<10} {shown:>5}/{samples:<4} {100 * shown / samples:>4.0f} % {cpu:>12.0f} %",
                      flush=True)
            browser.close()
        print(f"machine load average (1 min): {os.getloadavg()[0]:.1f}; demo log: {tmp / 'demo.log'}")
    finally:
        stop_demo(demo)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
