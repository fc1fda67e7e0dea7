"""End-to-end fixtures: the whole demo (hub, analysis worker, two clip cameras, Streamlit) started by
``scripts/demo.py`` on free loopback ports, and Debian's Chromium driven by Playwright.

Without Chromium (``make test`` installs it with scripts/ensure_apt.sh) or Playwright, or
without the shared footage, every test here is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import ROOT, SQUAT_DIR, free_port, wait_until

CHROMIUM = Path(os.environ.get("FORMSYNC_E2E_CHROMIUM", "/usr/bin/chromium"))
# The flags: no sandbox (containers, root), no GPU, and nothing that talks to the internet.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update"]
OUTPUT_DIR = ROOT / "test-output" / "e2e"
CAMERAS = ("front", "side")  # scripts/demo.py's default sources
# The first start imports MediaPipe, Streamlit and the pages on 2 shared cores.
START_TIMEOUT_S = 90
# Full knowledge-base ingestion embeds 76 chunks (35-50 s on 2 cores); the Feedback page needs only
# some knowledge base to load, and tests/feedback covers the real one.
FEEDBACK_DOC = "depth.md"


def _requirements() -> None:
    pytest.importorskip("playwright.sync_api", reason='playwright is not installed (pip install -e ".[dev]")')
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium with "
                    "scripts/ensure_apt.sh (needs root or password-less sudo); "
                    "or point FORMSYNC_E2E_CHROMIUM at one")
    if not SQUAT_DIR.is_dir():
        pytest.skip(f"shared footage not found at {SQUAT_DIR}")


def get_json(url: str, timeout: float = 2.0):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.load(resp)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0):
            return True
    except OSError:
        return False


@dataclass
class Demo:
    hub_url: str
    ui_url: str
    process: subprocess.Popen
    log_path: Path

    def cameras(self) -> dict[str, dict]:
        """``GET /api/v1/cameras`` by camera id."""
        return {c["camera_id"]: c for c in get_json(f"{self.hub_url}/api/v1/cameras")["cameras"]}

    def analysis(self, camera_id: str) -> dict | None:
        """``GET /api/v1/cameras/{id}/analysis``; None before the first result (404)."""
        try:
            return get_json(f"{self.hub_url}/api/v1/cameras/{camera_id}/analysis")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    def process_ids(self) -> list[str]:
        """Ids of the processes with a heartbeat at the hub (``GET /api/v1/heartbeats``)."""
        return [p["process_id"] for p in get_json(f"{self.hub_url}/api/v1/heartbeats")["processes"]]

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


# Package scope: the demo and the browser end with the e2e tests, so later suites neither share
# the machine with a running demo nor inherit Playwright's event loop in the main thread.
@pytest.fixture(scope="package")
def demo(tmp_path_factory) -> Demo:
    """``scripts/demo.py`` on free ports, running until the session ends; its output goes to
    test-output/e2e/demo.log. Ready once the dashboard answers and both clip cameras are online."""
    _requirements()
    tmp = tmp_path_factory.mktemp("e2e-demo")
    docs = tmp / "docs"
    docs.mkdir()
    shutil.copy(ROOT / "rag_data" / FEEDBACK_DOC, docs / FEEDBACK_DOC)
    env = {
        **os.environ,
        "FORMSYNC_HUB_DB_PATH": str(tmp / "formsync.db"),  # not the developer's var/
        "FORMSYNC_FEEDBACK_STORE_PATH": str(tmp / "chroma"),
        "FORMSYNC_FEEDBACK_DOCS_DIR": str(docs),
        "FORMSYNC_FEEDBACK_PROVIDER": "offline",
        # FORMSYNC_REFERENCE_DIR is the session's temporary library (tests/conftest.py).
    }
    hub_port, ui_port = free_port(), free_port()
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    log_path = OUTPUT_DIR / "demo.log"
    with open(log_path, "wb") as log:
        # Its own session: the demo forwards SIGINT to its children, and if it hangs the whole
        # group (only processes this fixture started) can be killed.
        proc = subprocess.Popen([sys.executable, "scripts/demo.py", "--hub-port", str(hub_port),
                                 "--ui-port", str(ui_port)], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    running = Demo(f"http://127.0.0.1:{hub_port}", f"http://127.0.0.1:{ui_port}", proc, log_path)

    def ready() -> bool:
        if proc.poll() is not None:
            return True  # reported below
        if not answers(f"{running.ui_url}/_stcore/health") or not answers(f"{running.hub_url}/healthz"):
            return False
        cams = running.cameras()
        return all(cams.get(c, {}).get("online") for c in CAMERAS)

    try:
        if not wait_until(ready, timeout=START_TIMEOUT_S, interval=0.5) or proc.poll() is not None:
            pytest.fail(f"the demo did not come up within {START_TIMEOUT_S} s (exit code {proc.poll()}):\n"
                        f"{running.log_tail()}", pytrace=False)
        yield running
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # the demo stops its children within 5 s
        try:
            proc.wait(15)
            return
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(5)


@pytest.fixture(scope="package")
def playwright_session():
    _requirements()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


def launch(pw, extra_flags: list[str] = ()):
    """Chromium with the standard flags (plus ``extra_flags``); the caller closes it."""
    return pw.chromium.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_FLAGS, *extra_flags])


@pytest.fixture(scope="package")
def browser(playwright_session):
    chromium = launch(playwright_session)
    yield chromium
    chromium.close()


@pytest.fixture
def shots(request) -> Path:
    """Screenshot folder of this test: test-output/e2e/<test name>/ (git-ignored), emptied first."""
    folder = OUTPUT_DIR / request.node.name.replace("/", "_")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
