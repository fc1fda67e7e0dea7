"""The dashboard pages under streamlit.testing.v1.AppTest, against a real hub."""

from __future__ import annotations

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


@pytest.mark.parametrize("script", [APP, LIVE], ids=["app", "live-page"])
def test_live_page_shows_the_synchronised_set_offsets_and_quality(hub, camera_jpegs, dashboard_env, script):
    dashboard_env(hub.url)
    base = time.time_ns()
    for seq in range(4):  # the hub's newest set is then seq 2 (see test_poller.synced_seq)
        post_synced_pair(hub.url, camera_jpegs, seq, base)
    at = AppTest.from_file(str(script), default_timeout=TIMEOUT_S).run()
    assert not at.exception
    poller = get_poller(hub.url)
    assert poller.wait_for(
        lambda p: p.synced_images() is not None and all(p.frame(c).version for c in camera_jpegs)
        and all(c.fps > 0 for c in p.cameras()), 10
    )

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
    # The synchronised set (seq 2) as one block, then two latest-frame tiles (seq 3).
    synced, *tiles = images(at)
    assert [alts(t) for t in tiles] == [["front seq 3"], ["side seq 3"]]
    assert alts(synced) == ["front seq 2, synchronised", "side seq 2, synchronised"]
    # Each frame of the set: capture time, seq, source frame, clock.
    assert "seq 2 · source frame 2 · clock -350 ms ± 0.3 ms" in synced
    assert "seq 2 · source frame 2 · clock +800 ms ± 0.3 ms" in synced


def test_cameras_without_clock_sync_are_flagged(hub, camera_jpegs, dashboard_env):
    dashboard_env(hub.url)
    base = time.time_ns()
    for seq in range(3):
        for cam, jpegs in camera_jpegs.items():
            post_frame(hub.url, cam, seq, jpegs[seq], base + seq * 33_333_333)
    at = AppTest.from_file(str(LIVE), default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert get_poller(hub.url).wait_for(lambda p: p.synced_images() is not None, 10)

    at.run()
    assert not at.exception and not at.error
    shown = texts(at)
    assert shown.count("clock offset not synchronised") == 2
    assert images(at)[0].count("clock not synchronised") == 2
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
