"""The whole demo for minutes on end: does the machine keep up, and at what quality tier?

Starts ``scripts/demo.py`` (hub, analysis worker with pose and gaze, two cameras replaying 30 fps
clips, the dashboard) on free loopback ports, opens the Live page in headless Chromium (someone
watching; ``--no-browser`` to leave it out), waits out the warm-up and, over ``--minutes``, prints:

- alerts: those firing when measuring begins (fired during the warm-up) and those fired while it
  measures, from the hub's alert log (``cpu_high`` is the one the policy keeps away);
- per camera: frames the hub accepted, frames analysed (results the hub took), the analysed share;
  capture-to-result latency p50/p95 (results sampled 4 times a second, each counted once);
- per camera: seconds spent at each quality tier and the target fps range (adaptive quality);
- host CPU mean and max (the hub's heartbeats: the figure ``cpu_high`` watches).

    .venv/bin/python -m bench.demo_run --minutes 10
    .venv/bin/python -m bench.demo_run --minutes 10 --no-adaptive    # cameras always at full rate

Needs Playwright and Chromium (``sh scripts/ensure_apt.sh chromium=chromium``) and the shared footage.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import psutil

from bench.dashboard import stop_demo, wait_http
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS
from tests.support import free_port

ROOT = Path(__file__).resolve().parent.parent
WARM_UP_S = 30.0  # MediaPipe and the default reference load; the first targets settle
CAMERAS = ("front", "side")


def counters(http: httpx.Client) -> dict[str, dict[str, float]]:
    """Per camera: frames accepted and analysis results received, from the hub's /metrics."""
    out: dict[str, dict[str, float]] = collections.defaultdict(dict)
    for line in http.get("/metrics").text.splitlines():
        for name, key in (("formsync_frames_received_total{", "frames"),
                          ("formsync_analysis_latency_seconds_count{", "analysed")):
            if line.startswith(name):
                camera = line.split('camera="', 1)[1].split('"', 1)[0]
                out[camera][key] = float(line.rsplit(" ", 1)[1])
    return out


_ROLES = (("fastapi_server", "hub"), ("analysis.worker", "worker"), ("webcam_client", "camera client"),
          ("streamlit", "dashboard"), ("chrom", "Chromium"), ("bench.demo_run", "this benchmark"))


def cpu_seconds() -> dict[str, float]:
    """CPU time (user + system, s) of every process on the machine, by role."""
    out: dict[str, float] = collections.defaultdict(float)
    for proc in psutil.process_iter(["cmdline", "name", "cpu_times"]):
        text = " ".join(proc.info["cmdline"] or [proc.info["name"] or ""])
        role = next((r for key, r in _ROLES if key in text), "other")
        times = proc.info["cpu_times"]
        if times is not None:
            out[role] += times.user + times.system
    return out


def open_live(pw, ui_url: str):
    browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(ui_url)
    page.locator('[data-testid="stSidebarNavLink"]', has_text="Live").first.click()
    page.locator('[data-testid="stMain"] h1', has_text="Live").first.wait_for(timeout=60_000)
    return browser


def run(hub_url: str, seconds: float) -> None:
    latencies: dict[str, list[float]] = {c: [] for c in CAMERAS}
    last_seq: dict[str, int] = {}
    tiers: dict[str, collections.Counter] = {c: collections.Counter() for c in CAMERAS}
    fps_seen: dict[str, list[float]] = {c: [] for c in CAMERAS}
    reasons: dict[str, collections.Counter] = {c: collections.Counter() for c in CAMERAS}
    cpu: list[float] = []
    with httpx.Client(base_url=hub_url, timeout=5) as http:
        start_ns, started = time.time_ns(), time.monotonic()
        before, cpu_before = counters(http), cpu_seconds()
        active_before = http.get("/api/v1/alerts").json()["active"]
        end = time.monotonic() + seconds
        next_second = time.monotonic()
        while time.monotonic() < end:
            for cam in CAMERAS:
                r = http.get(f"/api/v1/cameras/{cam}/analysis")
                if r.status_code == 200 and r.json()["seq"] != last_seq.get(cam):
                    last_seq[cam] = r.json()["seq"]
                    latencies[cam].append(r.json()["latency_ms"])
            if time.monotonic() >= next_second:
                next_second += 1.0
                for c in http.get("/api/v1/cameras").json()["cameras"]:
                    q = c.get("quality")
                    if c["camera_id"] in tiers and q:
                        tiers[c["camera_id"]][q["tier"]] += 1
                        fps_seen[c["camera_id"]].append(q["fps"])
                        reasons[c["camera_id"]][re.sub(r"\d+", "N", q["reason"])] += 1
                hub = [p for p in http.get("/api/v1/heartbeats").json()["processes"] if p["role"] == "hub"]
                if hub and hub[0]["host"].get("cpu_percent") is not None:
                    cpu.append(hub[0]["host"]["cpu_percent"])
            time.sleep(0.25)
        after, cpu_after = counters(http), cpu_seconds()
        elapsed = time.monotonic() - started
        log = http.get("/api/v1/alerts", params={"limit": "500"}).json()["log"]
    fired = [e for e in log if e["state"] == "firing" and e["time_ns"] >= start_ns]
    print(f"alerts firing when measuring began: {len(active_before)}"
          + "".join(f"\n  {a['rule']} on {a['subject']}: {a['message']}" for a in active_before), flush=True)
    print(f"alerts fired while measured: {len(fired)}"
          + "".join(f"\n  {e['rule']} on {e['subject']}: {e['message']}" for e in fired), flush=True)
    print("| camera | frames | analysed | share | latency p50 ms | p95 ms | tiers (s) | target fps | why (s) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for cam in CAMERAS:
        frames = after[cam].get("frames", 0) - before.get(cam, {}).get("frames", 0)
        analysed = after[cam].get("analysed", 0) - before.get(cam, {}).get("analysed", 0)
        lat = np.percentile(latencies[cam], [50, 95]) if latencies[cam] else (float("nan"),) * 2
        span = f"{min(fps_seen[cam]):g}-{max(fps_seen[cam]):g}" if fps_seen[cam] else "-"
        print(f"| {cam} | {frames:.0f} | {analysed:.0f} | {analysed / max(frames, 1):.1%} | {lat[0]:.0f} | "
              f"{lat[1]:.0f} | {dict(sorted(tiers[cam].items()))} | {span} | {dict(reasons[cam])} |", flush=True)
    shares = {role: (cpu_after[role] - cpu_before.get(role, 0.0)) / elapsed * 100 for role in cpu_after}
    print("CPU by process role (100 % = one core): " + ", ".join(
        f"{role} {share:.0f} %" for role, share in sorted(shares.items(), key=lambda kv: -kv[1])), flush=True)
    if cpu:
        print(f"host CPU mean {np.mean(cpu):.0f} %, max {np.max(cpu):.0f} % ({len(cpu)} samples)", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0, help="measuring time after the warm-up")
    p.add_argument("--no-browser", action="store_true", help="no Chromium on the Live page")
    p.add_argument("--no-adaptive", action="store_true", help="adaptive quality off (FORMSYNC_HUB_QUALITY_ADAPTIVE)")
    args = p.parse_args()
    hub_port, ui_port = free_port(), free_port()
    tmp = Path(tempfile.mkdtemp(prefix="formsync-bench-demo-"))
    env = {**os.environ, "FORMSYNC_HUB_DB_PATH": str(tmp / "formsync.db"), "FORMSYNC_FEEDBACK_PROVIDER": "offline",
           "FORMSYNC_HUB_QUALITY_ADAPTIVE": "false" if args.no_adaptive else "true"}
    with open(tmp / "demo.log", "wb") as log:
        demo = subprocess.Popen([sys.executable, "scripts/demo.py", "--hub-port", str(hub_port),
                                 "--ui-port", str(ui_port)], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    hub_url, ui_url = f"http://127.0.0.1:{hub_port}", f"http://127.0.0.1:{ui_port}"
    pw = browser = None
    try:
        wait_http(f"{hub_url}/healthz", 30)
        wait_http(f"{ui_url}/_stcore/health", 90)
        if not args.no_browser:
            from playwright.sync_api import sync_playwright

            pw = sync_playwright().start()
            browser = open_live(pw, ui_url)
        time.sleep(WARM_UP_S)
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        print(f"demo at {commit}, adaptive quality {'off' if args.no_adaptive else 'on'}, "
              f"{'no browser' if args.no_browser else 'Chromium on the Live page'}, {args.minutes:g} min", flush=True)
        run(hub_url, args.minutes * 60)
        print(f"machine load average (1 min): {os.getloadavg()[0]:.1f}; demo log: {tmp / 'demo.log'}")
    finally:
        if browser is not None:
            browser.close()
            pw.stop()
        stop_demo(demo)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
