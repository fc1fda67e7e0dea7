"""Every dashboard page in a real headless Chromium against the running demo (hub, analysis worker,
two clip cameras, Streamlit). Screenshots: test-output/e2e/<test>/<page>.png."""

from __future__ import annotations

import threading

import pytest

from tests.e2e.conftest import CAMERAS, get_json
from tests.e2e.dashboard import (
    coach_metrics,
    exceptions,
    grid_cells,
    live_canvases,
    nav_links,
    open_app,
    registered_page_titles,
    visit,
)
from tests.support import squat_clip, wait_until

BUILD_CLIP = squat_clip("side_bodyweight_intellifit1.mp4")  # 187 frames, 2 reps: seconds from the pose cache
VIEWPORT = {"width": 1400, "height": 1000}


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    yield context.new_page()
    context.close()


def test_every_registered_page_loads_without_an_exception(demo, page, shots):
    titles = registered_page_titles()
    page.goto(demo.ui_url)
    links = nav_links(page)
    # The navigation shows exactly the pages streamlit_app/app.py registers, whoever added them.
    assert sorted(link.title for link in links) == sorted(titles)
    failures = {}
    for link in links:
        visit(page, link)
        threading.Event().wait(1.0)  # a live fragment's first reruns
        page.screenshot(path=shots / f"{link.title.lower().replace(' ', '_')}.png", full_page=True)
        if errors := exceptions(page):
            failures[link.title] = errors
    assert not failures, f"Streamlit exceptions: {failures}"


def test_live_shows_both_cameras_with_advancing_capture_times(demo, page, shots):
    open_app(page, demo.ui_url, "Live")

    def shown() -> dict[str, int]:
        return {c["camera"]: int(c["capture_ns"]) for c in live_canvases(page, "cameras") if c["capture_ns"]}

    assert wait_until(lambda: set(CAMERAS) <= set(shown()), timeout=20, interval=0.25), \
        f"live canvases: {live_canvases(page)}"
    first = shown()
    # Both cameras stream at ~30 fps: within a couple of seconds each canvas paints a newer frame,
    # captured less than a minute later.
    advanced = wait_until(
        lambda: all(0 < (shown()[c] - first[c]) / 1e9 < 60 for c in CAMERAS), timeout=15, interval=0.25)
    page.screenshot(path=shots / "live.png", full_page=True)
    assert advanced, f"canvases did not advance: first {first}, later {shown()}"
    assert not exceptions(page)


def test_coach_rep_count_rises_as_the_clips_play(demo, page, shots):
    open_app(page, demo.ui_url, "Coach")
    seen: dict[str, list[int]] = {}

    def rose() -> bool:
        for camera, metrics in coach_metrics(page).items():
            if metrics.get("Reps", "").isdigit():
                seen.setdefault(camera, []).append(int(metrics["Reps"]))
        # A rise: some camera shows more reps than it showed earlier (a replayed clip starts a new
        # set at 0, so the count may also fall in between).
        return any(any(b > a for a, b in zip(v, v[1:])) for v in seen.values())

    # The side clip is 6 s with 2 reps; the worker may first build the default reference (~15 s).
    risen = wait_until(rose, timeout=60, interval=0.5)
    page.screenshot(path=shots / "coach.png", full_page=True)
    assert set(CAMERAS) <= set(seen), f"Reps metrics shown for {sorted(seen)}"
    assert risen, f"rep counts seen: {seen}"
    # Each camera's live frames, with the skeleton drawn in the browser (tests/e2e/test_live_view.py).
    assert wait_until(lambda: {c["camera"] for c in live_canvases(page, "overlay") if c["overlay_seq"]}
                      >= set(CAMERAS), timeout=20, interval=0.5), live_canvases(page, "overlay")
    # Beside each camera, the hub's picture of the reference frame at the same phase.
    pictures = page.locator('[data-testid="stMain"] img[alt^="reference "]')
    assert wait_until(lambda: pictures.count() >= len(CAMERAS), timeout=20, interval=0.5), pictures.count()
    assert not exceptions(page)


def test_coach_builds_a_reference_from_an_uploaded_video(demo, page, shots):
    """The whole path a coach takes: upload a video on the page, the hub queues the job, the demo's
    worker builds it with MediaPipe, the page shows the progress and the outcome, and the hub then
    serves the reference and lists it in the chooser."""
    open_app(page, demo.ui_url, "Coach")
    page.get_by_text("Reference (answer sheet)").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(BUILD_CLIP))
    name = page.get_by_role("textbox", name="Name")
    # The upload's rerun proposes the file's name; the coach's own is typed over it.
    assert wait_until(lambda: name.input_value() == BUILD_CLIP.stem, timeout=20, interval=0.25)
    name.fill("e2e-side")
    name.press("Enter")
    assert wait_until(lambda: name.input_value() == "e2e-side", timeout=10, interval=0.25)
    page.get_by_role("button", name="Build reference").click()
    main = page.locator('[data-testid="stMain"]')
    done = wait_until(lambda: "Reference 'e2e-side' is on the hub" in main.inner_text(), timeout=120, interval=0.5)
    page.screenshot(path=shots / "coach_built.png", full_page=True)
    assert done, [line for line in main.inner_text().splitlines() if "e2e-side" in line or "reference" in line]
    meta = get_json(f"{demo.hub_url}/api/v1/references/e2e-side")
    assert meta["view"] == "side" and len(meta["reps"]) == 2
    assert not exceptions(page)


def test_monitor_lists_the_hub_and_both_cameras(demo, page, shots):
    open_app(page, demo.ui_url, "Monitor")
    listed = wait_until(lambda: {"hub", *CAMERAS} <= set(grid_cells(page)), timeout=20, interval=0.5)
    page.screenshot(path=shots / "monitor.png", full_page=True)
    cells = grid_cells(page)
    assert listed, f"table cells: {cells}"
    # The hub's own heartbeat row (role:host:port) names its port.
    port = demo.hub_url.rsplit(":", 1)[1]
    assert any(c.startswith("hub:") and c.endswith(f":{port}") for c in cells), cells
    assert not exceptions(page)
