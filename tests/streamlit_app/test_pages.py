"""The dashboard pages under streamlit.testing.v1.AppTest, against a real hub."""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from streamlit_app.models import LinkState
from streamlit_app.resources import get_poller

from .conftest import post_frame

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


@pytest.mark.parametrize("script", [APP, LIVE], ids=["app", "live-page"])
def test_live_page_shows_both_cameras_and_the_spread(hub, camera_jpegs, dashboard_env, script):
    dashboard_env(hub.url)
    for seq in range(3):
        for cam, jpegs in camera_jpegs.items():
            post_frame(hub.url, cam, seq, jpegs[seq])
    at = AppTest.from_file(str(script), default_timeout=TIMEOUT_S).run()
    assert not at.exception
    poller = get_poller(hub.url)
    assert poller.wait_for(
        lambda p: p.sync_set() is not None and all(p.frame(c).version for c in camera_jpegs), 10
    )

    at.run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Live"
    shown = texts(at)
    assert "**front** :green-badge[online]" in shown and "**side** :green-badge[online]" in shown
    spread = next(m for m in at.metric if m.label == "Spread")
    assert spread.value.endswith(" ms")
    assert {m.label for m in at.metric} == {"Spread", "front", "side"}
    images = [h.proto.body for h in at.get("html")]
    assert len(images) == 2 and all(b.startswith('<img src="data:image/jpeg;base64,') for b in images)


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
    post_frame(url, "side", 0, camera_jpegs["side"][0])
    assert poller.wait_for(lambda p: p.connection().connected and p.frame("side").version, 10)
    at.run()
    assert not at.exception and not at.error
    assert "**side** :green-badge[online]" in texts(at)


def test_invalid_settings_are_reported_on_the_page(dashboard_env):
    dashboard_env("not-a-url")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert "hub_url" in at.error[0].value
