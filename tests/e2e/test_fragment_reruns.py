"""Live fragments whose reruns start before their page's output was sent: every page with a
``run_every`` fragment still shows, and keeps updating (``streamlit_app/fragments.py``).

A second dashboard runs against the demo's hub with its output always sent late
(``tests/e2e/late_output_dashboard.py``); a browser opens it and goes through the pages by their
sidebar links, as a user does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from tests.e2e.conftest import CAMERAS, answers
from tests.e2e.dashboard import exceptions, live_canvases, nav_links, posed_frames, visit
from tests.support import ROOT, free_port, wait_until

LIVE_PAGES = ("Live", "Monitor", "Coach", "Gaze")  # the pages with run_every fragments
START_TIMEOUT_S = 60
SETTLE_S = 2.0  # several reruns of every fragment on the page


@pytest.fixture
def late_dashboard(demo, tmp_path):
    port, log = free_port(), tmp_path / "clears.log"
    env = {**os.environ, "FORMSYNC_HUB_URL": demo.hub_url, "FORMSYNC_TEST_CLEAR_LOG": str(log),
           "PYTHONUNBUFFERED": "1"}
    with (tmp_path / "dashboard.log").open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.late_output_dashboard", "--server.address", "127.0.0.1",
             "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: answers(f"{url}/_stcore/health") or proc.poll() is not None, START_TIMEOUT_S, 0.5)
        assert proc.poll() is None, (tmp_path / "dashboard.log").read_text()[-3000:]
        yield url, log
    finally:
        proc.terminate()
        proc.wait(15)


def test_pages_survive_fragment_reruns_that_clear_their_unsent_output(late_dashboard, browser, shots):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    url, clears = late_dashboard
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)[:300]))
    page.goto(url)
    links = {link.title: link for link in nav_links(page)}
    for title in (*LIVE_PAGES, LIVE_PAGES[0]):
        try:
            visit(page, links[title])
        except PlaywrightTimeout:
            pytest.fail(f"the {title} page did not show; page errors: {errors}")
        threading.Event().wait(SETTLE_S)
        page.screenshot(path=shots / f"{title.lower()}.png", full_page=True)
        assert not errors, (title, errors)
        assert not exceptions(page), (title, exceptions(page))
        if title == "Coach":
            # The page goes on: both cameras' frames are shown with their skeletons.
            assert wait_until(lambda: set(CAMERAS) <= set(posed_frames(page)), 60, 0.5), posed_frames(page)
    # Back on Live, its frames still advance.
    shown = {c["camera"]: c["capture_ns"] for c in live_canvases(page, "cameras")}
    assert wait_until(lambda: all(c["capture_ns"] != shown.get(c["camera"])
                                  for c in live_canvases(page, "cameras") if c["camera"] in CAMERAS)
                      and set(CAMERAS) <= {c["camera"] for c in live_canvases(page, "cameras")}, 30, 0.5)
    # The race took place: fragment reruns found, and dropped, their pages' unsent output.
    assert clears.exists() and clears.read_text().count("dropped") >= len(LIVE_PAGES), clears
    page.context.close()
