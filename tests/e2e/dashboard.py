"""Reading the dashboard in a real browser: which pages the app registers, opening one until its
script has run, and what Live, Coach and Monitor show (from the DOM Streamlit renders)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from tests.support import ROOT

APP = ROOT / "streamlit_app" / "app.py"
PAGE_TIMEOUT_MS = 60_000  # an upper bound: the Feedback page loads an embedding model on first use


def registered_page_titles(app: Path = APP) -> list[str]:
    """Titles of the ``st.Page(...)`` entries of the app's ``PAGES`` list, read from its source (so a
    page added by anyone is visited without touching the tests)."""
    tree = ast.parse(app.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "PAGES" for t in node.targets):
            return [kw.value.value for call in node.value.elts for kw in call.keywords if kw.arg == "title"]
    raise AssertionError(f"no PAGES list in {app}")


@dataclass(frozen=True)
class NavLink:
    title: str
    url: str


def nav_links(page) -> list[NavLink]:
    """The sidebar navigation as the browser shows it (st.navigation's links)."""
    links = page.locator('[data-testid="stSidebarNavLink"]')
    links.first.wait_for(timeout=PAGE_TIMEOUT_MS)
    out = []
    for i in range(links.count()):
        # The link text is the icon's ligature name, then the title.
        title = [line for line in links.nth(i).inner_text().splitlines() if line.strip()][-1].strip()
        out.append(NavLink(title, links.nth(i).get_attribute("href")))
    return out


def visit(page, link: NavLink) -> None:
    """Open a page as a user does, by its sidebar link (same session, no reload), and wait for its
    ``st.title`` and for its script run to finish (the status widget disappears; live fragments
    rerun without it)."""
    page.locator(f'[data-testid="stSidebarNavLink"][href="{link.url}"]').click()
    page.locator('[data-testid="stMain"] h1', has_text=link.title).first.wait_for(timeout=PAGE_TIMEOUT_MS)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=PAGE_TIMEOUT_MS)


def open_app(page, url: str, title: str) -> NavLink:
    """Load the dashboard at ``url`` and open the page titled ``title``; returns its link. Fails
    the test when the navigation has no such page."""
    page.goto(url)
    links = {link.title: link for link in nav_links(page)}
    assert title in links, f"no {title!r} page in the navigation: {sorted(links)}"
    visit(page, links[title])
    return links[title]


def exceptions(page) -> list[str]:
    """Texts of the exceptions Streamlit shows on the page (``st.exception`` or an uncaught error)."""
    found = page.locator('[data-testid="stException"]')
    return [found.nth(i).inner_text() for i in range(found.count())]


_METRICS_JS = """() => {
  const out = {};
  for (const m of document.querySelectorAll('[data-testid="stMain"] [data-testid="stMetric"]')) {
    const label = m.querySelector('[data-testid="stMetricLabel"]');
    const value = m.querySelector('[data-testid="stMetricValue"]');
    if (!label || !value) continue;
    let el = m, heading = null;
    while (el && !(heading = el.querySelector('h4'))) el = el.parentElement;
    if (!heading) continue;
    const camera = heading.innerText.trim();
    (out[camera] = out[camera] || {})[label.innerText.trim()] = value.innerText.trim();
  }
  return out;
}"""


def coach_metrics(page) -> dict[str, dict[str, str]]:
    """The Coach page's metrics per camera: ``{"side": {"Score": "91", "Reps": "2", ...}}``."""
    return page.evaluate(_METRICS_JS)


def grid_cells(page) -> list[str]:
    """Texts of every cell of the page's ``st.dataframe`` tables (the grid's accessible cells)."""
    cells = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"] [role="gridcell"]')
    return [t.strip() for t in cells.all_inner_texts()]


def grid_rows(page) -> list[list[str]]:
    """Each row of the page's ``st.dataframe`` tables as its cells' texts (header rows have none)."""
    rows = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"] [role="row"]')
    return [cells for cells in (
        [t.strip() for t in row.locator('[role="gridcell"]').all_inner_texts()] for row in rows.all()) if cells]


_CANVAS_JS = """() => [...document.querySelectorAll('canvas[data-camera-id]')].map(c => ({
  view: c.closest('[data-view]') ? c.closest('[data-view]').dataset.view : null,
  camera: c.dataset.cameraId, capture_ns: c.dataset.captureNs, overlay_seq: c.dataset.overlaySeq || null}))"""


def live_frames(page):
    """The documents of the page's live view elements (streamlit_app/live_view), in page order.
    Found from their iframes: ``page.frames`` misses frames attached after a page switch."""
    frames = [el.content_frame() for el in page.query_selector_all('iframe[src*="formsync_live_view"]')]
    return [f for f in frames if f is not None]


def live_canvases(page, view: str | None = None) -> list[dict]:
    """Every live canvas of the page: ``{"view", "camera", "capture_ns", "overlay_seq"}`` (``view``:
    ``cameras``, ``sync`` or ``overlay``), only those of ``view`` when given."""
    out = []
    for frame in live_frames(page):
        try:
            out += frame.evaluate(_CANVAS_JS)
        except Exception:  # a frame that navigated away meanwhile
            continue
    return [c for c in out if view is None or c["view"] == view]


def posed_frames(page) -> dict[str, str]:
    """The cameras whose live canvas shows an analysed frame with its pose drawn over it:
    camera id -> the painted frame's capture time (ns, as text). Empty until results arrive."""
    return {c["camera"]: c["capture_ns"] for c in live_canvases(page, "overlay")
            if c["overlay_seq"] and c["capture_ns"]}


def paint_log(page, view: str | None = None) -> list[dict]:
    """Every paint the page's live views logged (``window.formsyncPaints``), with their view."""
    out = []
    for frame in live_frames(page):
        try:
            seen, paints = frame.evaluate(
                "() => [document.getElementById('grid').dataset.view, window.formsyncPaints || []]")
        except Exception:
            continue
        if view is None or seen == view:
            out += [{**p, "view": seen} for p in paints]
    return out
