"""Display timing: how many new frames per second each camera shows in a real browser, and how
long after capture they are painted, with the whole demo running.

Starts ``scripts/demo.py`` (hub, analysis worker, two clip cameras, Streamlit) from ``--root`` (this
checkout by default) on free loopback ports, opens the Live and Coach pages in headless Debian
Chromium one after another and, over ``--seconds`` per page, prints per camera and view:

- displayed fps: new frames painted per second (a frame repainted does not count);
- capture to paint, p50 / p95 / max, ms: the paint's time (``performance.timeOrigin +
  performance.now()`` in the animation frame that paints it) minus the frame's capture time on the
  hub's clock (same machine: one clock).

Two ways of reading paints, whichever the page has:

- live view canvases (streamlit_app/live_view): each paint is logged with its capture time in the
  element's ``window.formsyncPaints``;
- Streamlit ``<img>`` tiles (the dashboard before the live view), whose ``alt`` names camera and
  seq (``"front seq 12"``, ``"side seq 40 with pose"``): a MutationObserver notes each new image in
  the animation frame after it is inserted, and the capture time of that seq comes from the hub's
  ``frame`` events, followed by this benchmark.

    .venv/bin/python -m bench.display                          # this checkout, 30 s per page
    .venv/bin/python -m bench.display --root /tmp/formsync-old  # another checkout, measured the same way

Needs Playwright and Chromium (``sh scripts/ensure_chromium.sh``) and the shared footage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp
import numpy as np

from bench.dashboard import stop_demo, streamlit_process, wait_http
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS
from tests.e2e.dashboard import live_frames
from tests.support import free_port

ROOT = Path(__file__).resolve().parent.parent
WARM_UP_S = 20.0  # the worker loads MediaPipe and the default reference before results flow
CAMERAS = ("front", "side")

# Notes the animation frame after each new <img> whose alt names a camera and seq.
_IMG_OBSERVER = """() => {
  if (window.__imgPaints) return;
  const out = window.__imgPaints = [];
  const seen = new Map();
  const note = (img) => {
    const m = /^([A-Za-z0-9_-]+) seq (\\d+)(.*)$/.exec(img.alt || '');
    if (!m) return;
    const view = m[3].includes('synchronised') ? 'sync' : m[3].includes('pose') ? 'overlay' : 'cameras';
    const key = view + ':' + m[1];
    if (seen.get(key) === m[2]) return;
    seen.set(key, m[2]);
    requestAnimationFrame(() => out.push({view, camera: m[1], seq: Number(m[2]),
                                          paint_ms: performance.timeOrigin + performance.now()}));
  };
  new MutationObserver((muts) => {
    for (const mu of muts) for (const n of mu.addedNodes) {
      if (n.nodeType !== 1) continue;
      if (n.tagName === 'IMG') note(n);
      n.querySelectorAll && n.querySelectorAll('img[alt]').forEach(note);
    }
  }).observe(document.body, {childList: true, subtree: true});
}"""


class CaptureTimes:
    """(camera, seq) -> capture time, ns, from the hub's ``frame`` events, in a thread of its own."""

    def __init__(self, hub_url: str) -> None:
        self.url = hub_url.replace("http", "ws", 1) + "/api/v1/events?types=frame"
        self.times: dict[tuple[str, int], int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._follow()), daemon=True)
        self._thread.start()

    async def _follow(self) -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(self.url) as ws:
            while not self._stop.is_set():
                try:
                    msg = await ws.receive(timeout=0.5)
                except TimeoutError:
                    continue
                if msg.type != aiohttp.WSMsgType.TEXT:
                    return
                event = json.loads(msg.data)
                self.times[(event["camera_id"], event["seq"])] = event["capture_time_ns"]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def live_paints(page) -> list[dict]:
    out = []
    for frame in live_frames(page):
        try:
            view, paints = frame.evaluate("() => [document.getElementById('grid').dataset.view, "
                                          "window.formsyncPaints || []]")
        except Exception:  # a live view still loading (no grid yet) or navigated away: nothing painted
            continue
        out += [{"view": view, "camera": p["camera"], "capture_ns": int(p["capture_ns"]), "paint_ms": p["paint_ms"]}
                for p in paints]
    return out


def img_paints(page, captures: CaptureTimes) -> list[dict]:
    out = []
    for p in page.evaluate("() => window.__imgPaints || []"):
        capture = captures.times.get((p["camera"], p["seq"]))
        if capture is not None:
            out.append({**p, "capture_ns": capture})
    return out


def measure(page, ui_url: str, title: str, seconds: float, captures: CaptureTimes, st_proc) -> tuple[list, float]:
    """Paints in the ``seconds`` after the page's first paint, and Streamlit's CPU % meanwhile."""
    page.goto(ui_url)
    page.locator('[data-testid="stSidebarNavLink"]', has_text=title).first.click()
    page.locator('[data-testid="stMain"] h1', has_text=title).first.wait_for(timeout=60_000)
    page.evaluate(_IMG_OBSERVER)
    deadline = time.monotonic() + 60
    while not (live_paints(page) or img_paints(page, captures)) and time.monotonic() < deadline:
        time.sleep(0.25)
    time.sleep(2.0)  # past the first paints, which wait on the page's first run
    start_ms = time.time() * 1e3
    st_proc.cpu_percent()
    time.sleep(seconds)
    cpu = st_proc.cpu_percent()
    end_ms = time.time() * 1e3
    paints = [p for p in live_paints(page) + img_paints(page, captures) if start_ms <= p["paint_ms"] <= end_ms]
    return paints, cpu


def report(title: str, paints: list[dict], seconds: float, cpu: float) -> None:
    views = sorted({p["view"] for p in paints})
    if not views:
        print(f"{title:<7} no frame painted")
    for view in views:
        for camera in CAMERAS:
            mine = [p for p in paints if p["view"] == view and p["camera"] == camera]
            first = {}
            for p in mine:  # a frame repainted counts once, at its first paint
                first.setdefault(p["capture_ns"], p["paint_ms"])
            if not first:
                print(f"{title:<7} {view:<8} {camera:<6} no frame painted")
                continue
            lat = np.array([paint - cap / 1e6 for cap, paint in first.items()])
            print(f"{title:<7} {view:<8} {camera:<6} {len(first) / seconds:>6.1f} fps   capture to paint "
                  f"p50 {np.percentile(lat, 50):>5.0f} ms  p95 {np.percentile(lat, 95):>5.0f} ms  "
                  f"max {lat.max():>5.0f} ms", flush=True)
    print(f"{title:<7} Streamlit CPU {cpu:.0f} % (100 % = one core)", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("pages", nargs="*", default=["Live", "Coach"], help="page titles")
    p.add_argument("--seconds", type=float, default=30.0, help="measuring time per page")
    p.add_argument("--root", type=Path, default=ROOT, help="checkout whose scripts/demo.py to run")
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    hub_port, ui_port = free_port(), free_port()
    tmp = Path(tempfile.mkdtemp(prefix="formsync-bench-display-"))
    env = {**os.environ, "FORMSYNC_HUB_DB_PATH": str(tmp / "formsync.db"), "FORMSYNC_FEEDBACK_PROVIDER": "offline",
           "PYTHONPATH": str(args.root.resolve())}
    with open(tmp / "demo.log", "wb") as log:
        demo = subprocess.Popen([sys.executable, "scripts/demo.py", "--hub-port", str(hub_port),
                                 "--ui-port", str(ui_port)], cwd=args.root, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    hub_url, ui_url = f"http://127.0.0.1:{hub_port}", f"http://127.0.0.1:{ui_port}"
    captures = None
    try:
        wait_http(f"{ui_url}/_stcore/health", 90)
        wait_http(f"{hub_url}/healthz", 30)
        time.sleep(WARM_UP_S)
        captures = CaptureTimes(hub_url)
        st_proc = streamlit_process(demo)
        commit = subprocess.run(["git", "-C", str(args.root), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        print(f"demo from {args.root} at {commit}; {args.seconds:.0f} s per page")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
            for title in args.pages:
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                paints, cpu = measure(context.new_page(), ui_url, title, args.seconds, captures, st_proc)
                report(title, paints, args.seconds, cpu)
                context.close()
            browser.close()
        print(f"machine load average (1 min): {os.getloadavg()[0]:.1f}; demo log: {tmp / 'demo.log'}")
    finally:
        if captures is not None:
            captures.stop()
        stop_demo(demo)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
