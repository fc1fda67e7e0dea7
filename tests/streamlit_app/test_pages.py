"""The dashboard pages under streamlit.testing.v1.AppTest, against a real hub."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from streamlit_app.models import LinkState
from streamlit_app.resources import get_poller
from tests.streamlit_app.conftest import post_frame, post_synced_pair

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "streamlit_app" / "app.py"
LIVE = ROOT / "pages" / "live.py"
TIMEOUT_S = 20  # first runs import streamlit pages on a shared 2-core machine


@pytest.fixture(autouse=True)
def _stop_pollers():
    yield
    get_poller.clear()  # on_release stops every cached poller
    assert not [t.name for t in threading.enumerate() if t.name.startswith("hub-poller:")]


@pytest.fixture
def dashboard_env(monkeypatch):
    def point_at(url: str) -> None:
        monkeypatch.setenv("FORMSYNC_HUB_URL", url)
        monkeypatch.setenv("FORMSYNC_RECONNECT_MAX_S", "0.5")
    return point_at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [f"{m.label}={m.value}" for m in at.metric]
    return "\n".join(parts)


def poller_threads(url: str) -> list[threading.Thread]:
    name = f"hub-poller:{urlsplit(url).netloc}"
    return [t for t in threading.enumerate() if t.name == name]


def images(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.get("html")]


def alts(body: str) -> list[str]:
    return [part.split('"', 1)[0] for part in body.split(' alt="')[1:]]


def live_views(at: AppTest) -> list[dict]:
    """The arguments of the page's live view elements (streamlit_app/live_view), in page order."""
    return [json.loads(c.proto.json_args) for c in at.get("component_instance")]


@pytest.mark.parametrize("script", [APP, LIVE], ids=["app", "live-page"])
def test_live_page_shows_the_synchronised_set_offsets_and_quality(hub, camera_jpegs, dashboard_env, script):
    dashboard_env(hub.url)
    at = AppTest.from_file(str(script), default_timeout=TIMEOUT_S).run()
    assert not at.exception
    poller = get_poller(hub.url)
    # Frames sent once the page runs: a first run on a loaded machine outlasts the hub's 2 s
    # before a silent camera is stale.
    assert poller.wait_for(lambda p: p.connection().connected, 10)
    base = time.time_ns()
    for seq in range(4):  # the hub's newest set is then seq 2 (see test_poller.synced_seq)
        post_synced_pair(hub.url, camera_jpegs, seq, base)
    assert poller.wait_for(
        lambda p: p.sync_set() is not None and len(p.cameras()) == 2 and all(c.fps > 0 for c in p.cameras()), 10)

    at.run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Live"
    shown = texts(at)
    assert "**front** :green-badge[online]" in shown and "**side** :green-badge[online]" in shown
    # Spread 2 ms at 30 fps with 0.3 ms clock uncertainty: well within a quarter frame.
    assert {m.label: m.value for m in at.metric} == {"Spread": "2.0 ms"}
    assert "**Sync quality** :green-badge[good]" in shown
    # Each tile: the camera's clock offset.
    assert "clock offset -350 ms ± 0.3 ms" in shown and "clock offset +800 ms ± 0.3 ms" in shown
    # The frames themselves come over the hub's live socket: the synchronised view, then the cameras,
    # each with a display token the hub minted for this session (and nowhere in the page's text).
    synced, cameras = live_views(at)
    assert (synced["sync"], synced["cameras"], cameras["sync"], cameras["cameras"]) == \
        (True, ["front", "side"], False, ["front", "side"])
    assert synced["ws_url"] == hub.url.replace("http", "ws", 1) + "/api/v1/live/stream"
    assert synced["token"] and synced["token"] == cameras["token"] and synced["token"] not in shown
    # Nothing on the page shows frames any more: the poller downloads none.
    assert not any(poller.frame_fetches.values())


def test_cameras_without_clock_sync_are_flagged(hub, camera_jpegs, dashboard_env):
    dashboard_env(hub.url)
    at = AppTest.from_file(str(LIVE), default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert get_poller(hub.url).wait_for(lambda p: p.connection().connected, 10)
    base = time.time_ns()
    for seq in range(3):
        for cam, jpegs in camera_jpegs.items():
            post_frame(hub.url, cam, seq, jpegs[seq], base + seq * 33_333_333)
    assert get_poller(hub.url).wait_for(lambda p: p.sync_set() is not None, 10)

    at.run()
    assert not at.exception and not at.error
    shown = texts(at)
    assert shown.count("clock offset not synchronised") == 2
    assert "**Sync quality** :red-badge[poor]" in shown
    assert "clock offset is unknown" in shown


def test_sessions_and_reruns_share_one_poller(hub, dashboard_env):
    dashboard_env(hub.url)
    first = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S).run()
    second = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S).run()
    first.run()
    second.run()
    assert not first.exception and not second.exception
    assert len(poller_threads(hub.url)) == 1
    assert get_poller(hub.url).wait_for(lambda p: p.connection().connected, 10)
    second.run()
    assert "no camera has sent a frame yet" in second.info[0].value


def test_without_a_hub_the_page_says_unreachable_then_recovers(hub, camera_jpegs, dashboard_env):
    url = hub.url
    hub.stop()
    dashboard_env(url)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S).run()
    assert not at.exception
    poller = get_poller(url)
    assert poller.wait_for(lambda p: p.connection().state is LinkState.UNREACHABLE, 10)

    at.run()
    assert not at.exception
    assert "unreachable" in at.error[0].value and url in at.error[0].value

    hub.start()
    assert poller.wait_for(lambda p: p.connection().connected, 10)
    # A frame just before the run: a slow first run outlasts the hub's 2 s before a camera is stale.
    post_frame(url, "side", 0, camera_jpegs["side"][0])
    assert poller.wait_for(lambda p: [c.online for c in p.cameras()] == [True], 10)
    at.run()
    assert not at.exception and not at.error
    assert "**side** :green-badge[online]" in texts(at)


def test_invalid_settings_are_reported_on_the_page(dashboard_env):
    dashboard_env("not-a-url")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert "hub_url" in at.error[0].value
