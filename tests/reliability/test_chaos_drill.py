"""Chaos drill: the demo's processes run and a browser shows the Coach page; the analysis worker is
killed (SIGKILL) in the middle of a set, then the hub, then the camera client, each restarted.
Afterwards every set any worker closed is in the database exactly once (no set lost, none saved
twice, no two sets of one camera overlapping in time), the Coach page recovered by itself, and no
process logged an unhandled exception.

Real processes: the hub (``fastapi_server.py``, same port and SQLite file across its restart), the
worker (``python -m analysis.worker``, pose only to keep the drill short on 2 cores), one camera
client streaming the demo's two clips, the dashboard (``python -m streamlit_app.serve``), and
Debian's Chromium driven by Playwright.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import httpx
import pytest

from tests.reliability.processes import HubProcess, start_client, start_worker, stop
from tests.support import ROOT, free_port, squat_clip, wait_until

SIDE, FRONT = squat_clip("side_bodyweight_intellifit1.mp4"), squat_clip("front_barbell_gymvision.mp4")
pytestmark = pytest.mark.skipif(not SIDE.exists() or not FRONT.exists(), reason="shared footage not found")

FIRST_RESULT_S = 120  # MediaPipe's start, and the default reference if this session has not built it
CLOSED = re.compile(r"\[(?P<camera>[A-Za-z0-9_-]+)\] set (?P<set_id>[0-9a-f]{32}) closed \((?P<reason>\w+)\)")
UNHANDLED = ("Traceback", "Task exception was never retrieved", "Exception in thread", "Exception in ASGI")


def get(url: str) -> dict | None:
    try:
        r = httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return None
    return r.json() if r.status_code == 200 else None


def in_a_set(hub_url: str, camera_id: str = "side") -> bool:
    """The camera's live set is open and has a rep: killing now loses a set in progress."""
    live = get(f"{hub_url}/api/v1/cameras/{camera_id}/set")
    return live is not None and live["status"] == "open" and live["reps"] >= 1


def first_rep_done(hub_url: str) -> str | None:
    """The side camera's open set, if it has just its first rep: the set id. Its clip has two reps
    per play and every replay ends a set, so this set is still in progress for a few seconds more."""
    live = get(f"{hub_url}/api/v1/cameras/side/set")
    return live["set_id"] if live is not None and live["status"] == "open" and live["reps"] == 1 else None


def analysed_after(hub_url: str, camera_id: str, since_ns: int) -> bool:
    """A result of a frame captured after ``since_ns`` is at the hub."""
    a = get(f"{hub_url}/api/v1/cameras/{camera_id}/analysis")
    return a is not None and not a["stale"] and a["capture_time_ns"] > since_ns


def saved_sets(db: Path) -> list[dict]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        rows = con.execute("SELECT set_id, camera_id, body FROM sets").fetchall()
    finally:
        con.close()
    return [{"set_id": sid, "camera_id": cam, **json.loads(body)} for sid, cam, body in rows]


def moved_on(now: dict[str, str], before: dict[str, str]) -> bool:
    return all(c in now and now[c] != before.get(c) for c in ("side", "front"))


def start_dashboard(hub_url: str, port: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "FORMSYNC_HUB_URL": hub_url, "PYTHONUNBUFFERED": "1"}
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "streamlit_app.serve", "--server.address", "127.0.0.1",
             "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def test_kill_worker_hub_and_camera_mid_set_and_nothing_is_lost_or_doubled(tmp_path):
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS
    from tests.e2e.dashboard import exceptions, open_app, posed_frames

    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (make test installs it: scripts/ensure_apt.sh)")
    logs = {name: tmp_path / f"{name}.log" for name in ("worker", "client", "dashboard")}
    spool = {"FORMSYNC_WORKER_SPOOL_DIR": str(tmp_path / "spool")}
    cams = [f"side={SIDE}", f"front={FRONT}"]
    client_args = ("--fps", "15", "--max-width", "480")
    hub = HubProcess(tmp_path).start()
    worker = start_worker(hub.url, logs["worker"], env=spool)
    client = start_client(hub.url, cams, logs["client"], *client_args)
    ui_port = free_port()
    dashboard = start_dashboard(hub.url, ui_port, logs["dashboard"])
    pw = sync_api.sync_playwright().start()
    browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
    timeline: dict[str, float] = {}
    try:
        assert wait_until(lambda: analysed_after(hub.url, "side", 0) and analysed_after(hub.url, "front", 0),
                          FIRST_RESULT_S, 0.25), logs["worker"].read_text()[-3000:]
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        browser_events: list[str] = []
        page.on("crash", lambda *_: browser_events.append("page crashed"))
        page.on("console", lambda m: browser_events.append(f"console {m.type}: {m.text}"[:300])
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: browser_events.append(f"page error: {e}"[:300]))
        page.on("websocket", lambda ws: (browser_events.append(f"{time.strftime('%H:%M:%S')} ws open {ws.url}"),
                                         ws.on("close", lambda *_: browser_events.append(
                                             f"{time.strftime('%H:%M:%S')} ws closed {ws.url}"))))
        open_app(page, f"http://127.0.0.1:{ui_port}", "Coach")
        assert wait_until(lambda: {"side", "front"} <= set(posed_frames(page)), 60, 0.5)
        drill = time.monotonic()

        # 1. The worker dies mid-set; a new one takes over.
        assert wait_until(lambda: first_rep_done(hub.url), 30, 0.1)
        killed_set = first_rep_done(hub.url)
        worker.kill()
        worker.wait(10)
        worker = start_worker(hub.url, logs["worker"], env=spool)
        restarted = time.time_ns()
        assert wait_until(lambda: analysed_after(hub.url, "side", restarted), 60, 0.25)
        timeline["worker"] = time.monotonic() - drill
        browser_events.append(f"{time.strftime('%H:%M:%S')} worker back")

        # 2. The hub dies mid-set (the worker's set in progress survives it), and comes back.
        assert wait_until(lambda: in_a_set(hub.url), 30, 0.1)
        hub.kill()
        hub.start()
        restarted = time.time_ns()
        assert wait_until(lambda: analysed_after(hub.url, "side", restarted)
                          and analysed_after(hub.url, "front", restarted), 60, 0.25)
        timeline["hub"] = time.monotonic() - drill
        browser_events.append(f"{time.strftime('%H:%M:%S')} hub back")

        # 3. The camera client dies mid-set, and comes back (its clips start over).
        assert wait_until(lambda: in_a_set(hub.url), 30, 0.1)
        client.kill()
        client.wait(10)
        client = start_client(hub.url, cams, logs["client"], *client_args)
        restarted = time.time_ns()
        assert wait_until(lambda: analysed_after(hub.url, "side", restarted)
                          and analysed_after(hub.url, "front", restarted), 60, 0.25)
        timeline["client"] = time.monotonic() - drill
        browser_events.append(f"{time.strftime('%H:%M:%S')} client back")

        # The page recovered by itself, without a reload: both cameras' posed frames are back and
        # keep moving on.
        for _ in range(2):
            shown = posed_frames(page)
            recovered = wait_until(lambda shown=shown: moved_on(posed_frames(page), shown), 45, 0.5)
            page.screenshot(path=tmp_path / "coach.png", full_page=True)
            assert recovered, (shown, posed_frames(page), browser_events[-20:])
        assert not exceptions(page)
        assert "unreachable" not in page.locator('[data-testid="stMain"]').inner_text()
        timeline["page"] = time.monotonic() - drill

        # The worker stops on purpose: its sets in progress close and reach the hub before it exits.
        worker.send_signal(signal.SIGTERM)
        worker.wait(15)
        timeline["drill"] = time.monotonic() - drill
    finally:
        (tmp_path / "browser.log").write_text("\n".join(browser_events) if "browser_events" in locals() else "")
        browser.close()
        pw.stop()
        for proc in (dashboard, client, worker):
            stop(proc)
        hub.stop()
    print("chaos drill:", ", ".join(f"{k} back at {v:.1f} s" for k, v in timeline.items()))

    closed = [m.groupdict() for m in CLOSED.finditer(logs["worker"].read_text(errors="replace"))]
    saved = saved_sets(tmp_path / "hub.db")
    reasons = {c["reason"] for c in closed}
    print("sets closed:", len(closed), sorted(reasons), "saved:", len(saved))
    assert "source_restart" in reasons, closed  # every replay of a clip ends a set
    # Every set a worker closed is saved, once; besides those, only the sets the killed worker had
    # open, which the hub closed as worker_lost when their leases ran out (one per camera at most):
    # the side camera's among them.
    closed_ids = sorted(c["set_id"] for c in closed)
    assert sorted(s["set_id"] for s in saved if s["set_id"] in closed_ids) == closed_ids
    lost = [s for s in saved if s["set_id"] not in closed_ids]
    assert all(s["end_reason"] == "worker_lost" for s in lost), lost
    assert killed_set in {s["set_id"] for s in lost}, (killed_set, lost)
    assert len(lost) == len({s["camera_id"] for s in lost}) <= 2
    assert all(s["status"] == "closed" and s["reps"] == len(s["reps_detail"]) >= 1 for s in saved)
    # No set saved twice under another id: one camera's sets never overlap in time.
    by_camera = defaultdict(list)
    for s in saved:
        by_camera[s["camera_id"]].append((s["started_at_ns"], s["ended_at_ns"]))
    for camera, spans in by_camera.items():
        spans.sort()
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in pairwise(spans)), (camera, spans)
    for name, text in [("hub", hub.log()), *((n, p.read_text(errors="replace")) for n, p in logs.items())]:
        bad = [marker for marker in UNHANDLED if marker in text]
        assert not bad, f"{name} logged {bad}:\n{text[-4000:]}"
