"""Reading the dashboard in a real browser: which pages the app registers, opening one until its
script has run, and what Live, Coach and Monitor show (from the DOM Streamlit renders)."""

from __future__ import annotations

import ast
import re
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


_TILE_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] img[alt]')]
  .filter(img => / seq \\d+$/.test(img.alt))
  .map(img => {
    let el = img, caption = null;
    while (el && !(caption = el.querySelector('[data-testid="stCaptionContainer"]'))) el = el.parentElement;
    return [img.alt, caption ? caption.innerText : null];
  })"""
_TILE_ALT = re.compile(r"^(?P<camera>[A-Za-z0-9_-]+) seq (?P<seq>\d+)$")
_CLOCK = re.compile(r"(\d\d):(\d\d):(\d\d)\.(\d{3})")


@dataclass(frozen=True)
class Tile:
    """One camera image of the Live page: its seq and the capture time its caption shows (local
    time of day, s)."""

    camera_id: str
    seq: int
    capture_s: float


def live_tiles(page) -> dict[str, Tile]:
    """The Live page's camera tiles by camera id (the synchronised set's images are left out)."""
    out = {}
    for alt, caption in page.evaluate(_TILE_JS):
        m, clock = _TILE_ALT.match(alt), _CLOCK.search(caption or "")
        if m and clock:
            h, mi, s, ms = map(int, clock.groups())
            out[m["camera"]] = Tile(m["camera"], int(m["seq"]), h * 3600 + mi * 60 + s + ms / 1e3)
    return out


def seconds_later(earlier: float, later: float) -> float:
    """How far ``later`` is after ``earlier`` (times of day, s), across midnight too."""
    return (later - earlier) % 86_400


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

