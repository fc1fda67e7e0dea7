"""The Monitor page and the alert banner under ``streamlit.testing.v1.AppTest``, against a real hub;
the monitor poller on its own."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from streamlit_app.models import LinkState
from streamlit_app.monitor.poller import MonitorPoller
from streamlit_app.monitor.resources import get_monitor_poller
from tests.conftest import synthetic_jpeg
from tests.monitoring.conftest import camera_link, heartbeat_body
from tests.support import RunningHub, free_port

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "streamlit_app" / "app.py"
MONITOR = ROOT / "pages" / "monitor.py"
TIMEOUT_S = 30  # first runs import streamlit pages on a shared 2-core machine


@pytest.fixture(autouse=True)
def _stop_monitor_pollers():
    yield
    get_monitor_poller.clear()  # on_release stops every cached poller
    assert not [t.name for t in threading.enumerate() if t.name.startswith("monitor-poller:")]


@pytest.fixture
def dashboard_env(monkeypatch):
    def point_at(url: str) -> None:
        monkeypatch.setenv("FORMSYNC_HUB_URL", url)
        monkeypatch.setenv("FORMSYNC_MONITOR_REFRESH_S", "0.2")
        monkeypatch.setenv("FORMSYNC_RECONNECT_MAX_S", "0.5")
    return point_at


class Streaming(threading.Thread):
    """Keeps a camera online: a frame every 33 ms until ``stop()``."""

    def __init__(self, hub_url: str, camera_id: str) -> None:
        super().__init__(name=f"stream:{camera_id}", daemon=True)
        self.hub_url, self.camera_id = hub_url, camera_id
        self._halt = threading.Event()

    def run(self) -> None:
        seq = 0
        with httpx.Client(base_url=self.hub_url) as http:
            while not self._halt.wait(0.033):
                http.post(f"/api/v1/cameras/{self.camera_id}/frames", content=synthetic_jpeg(seq),
                          headers={"Content-Type": "image/jpeg", "X-Frame-Seq": str(seq),
                                   "X-Capture-Time-Ns": str(time.time_ns())})
                seq += 1

    def stop(self) -> None:
        self._halt.set()
        self.join(5)


def table(at: AppTest, first_column: str) -> list[dict]:
    """The rows of the dataframe whose first column is ``first_column``."""
    for df in at.dataframe:
        frame = df.value
        if list(frame.columns)[:1] == [first_column]:
            return frame.to_dict("records")
    raise AssertionError(f"no table starting with {first_column!r}")


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_monitor_page_shows_hosts_processes_pipeline_charts_and_alerts(dashboard_env, tmp_path):
    with RunningHub(stale_after_s=1.0, monitor_interval_s=0.1, heartbeat_interval_s=0.3,
                    db_path=str(tmp_path / "hub.db")) as hub:
        dashboard_env(hub.url)
        client = heartbeat_body("client:cam-pc:front", cameras=[camera_link("front")])
        assert httpx.post(hub.url + "/api/v1/heartbeats", json=client).status_code == 201
        # Online until its row is checked (stale_after_s is 1 s), then it goes stale on purpose.
        streaming = Streaming(hub.url, "front")
        streaming.start()
        at = AppTest.from_file(str(MONITOR), default_timeout=TIMEOUT_S).run()
        assert not at.exception
        poller = get_monitor_poller(hub.url)
        assert poller.wait_for(lambda p: p.rounds >= 3 and p.snapshot().cameras and any(
            h.role == "hub" for h in p.snapshot().processes), 15)
        at.run()
        assert not at.exception and not at.error
        assert at.title[0].value == "Monitor"

        hosts = {r["host"]: r for r in table(at, "host")}
        here = hosts[socket.gethostname()]
        # The hub, the (posted) client and this dashboard share this machine.
        assert set(here["roles"].split(", ")) == {"client", "dashboard", "hub"}
        assert 0 <= here["CPU %"] <= 100 and 0 <= here["memory %"] <= 100 and 0 <= here["disk free %"] <= 100

        procs = {r["process"]: r for r in table(at, "process")}
        assert {r["role"] for r in procs.values()} == {"client", "hub", "dashboard"}
        assert procs[poller.local_process_id]["pid"] == client["process"]["pid"]  # this test process
        assert all(0 <= r["CPU %"] <= 100 for r in procs.values())

        [front] = table(at, "camera")
        assert (front["camera"], front["state"], front["capture fps"], front["sent fps"], front["drops"]) == \
            ("front", "online", 30.0, 29.5, 10)
        assert front["hub fps"] > 0 and front["clock offset ms"] == -1.5
        streaming.stop()

        charts = at.get("vega_lite_chart")
        assert len(charts) >= 4  # host CPU and memory, process CPU, camera fps (frame age while online)

        # The camera goes stale: a critical alert, in the banner of every page and the page's tables
        # (the log entry is written a moment after the alert fires, off the hub's event loop).
        assert poller.wait_for(lambda p: p.snapshot().alerts is not None and any(
            a.rule == "camera_stale" for a in p.snapshot().alerts.active) and p.snapshot().alerts.log, 10)
        at.run()
        assert not at.exception
        assert [r["rule"] for r in table(at, "level")] == ["camera_stale"]
        assert ("firing", "camera_stale") in {(r["state"], r["rule"]) for r in table(at, "time")}

        app = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S).run()
        assert not app.exception
        assert ":red-background[:material/error: **1 critical:** camera front is stale" in markdown(app)
        app.switch_page("../pages/monitor.py").run()
        assert not app.exception and app.title[0].value == "Monitor"
        assert ":red-background[" in markdown(app)


def test_monitor_page_shows_a_worker_that_does_not_follow_the_hub(dashboard_env, tmp_path):
    with RunningHub(monitor_interval_s=0.1, alert_rules={"worker_not_following": {"for_s": 0}},
                    db_path=str(tmp_path / "hub.db")) as hub:
        dashboard_env(hub.url)
        link = {"following": False, "follow_error": "WSServerHandshakeError: 502 Bad Gateway",
                "follower_restarts_total": 3, "bad_events_total": 0, "sets_pending": 1, "sets_sent_total": 4}
        beat = heartbeat_body("worker:gpu-pc:w1", role="worker", worker=link)
        assert httpx.post(hub.url + "/api/v1/heartbeats", json=beat).status_code == 201
        at = AppTest.from_file(str(MONITOR), default_timeout=TIMEOUT_S).run()
        poller = get_monitor_poller(hub.url)
        assert poller.wait_for(lambda p: p.snapshot().alerts is not None and any(
            a.rule == "worker_not_following" for a in p.snapshot().alerts.active), 10)
        at.run()
        assert not at.exception
        row = {r["process"]: r for r in table(at, "process")}["worker:gpu-pc:w1"]
        assert row["state"] == "alive, not following the hub"
        assert "502 Bad Gateway" in row["detail"] and "1 set update(s) not yet acknowledged" in row["detail"]
        [alert] = table(at, "level")
        assert alert["rule"] == "worker_not_following" and alert["subject"] == "worker:gpu-pc:w1"
        # Following again: the alert clears.
        link.update(following=True, follow_error=None, sets_pending=0)
        assert httpx.post(hub.url + "/api/v1/heartbeats", json={**beat, "worker": link}).status_code == 201
        assert poller.wait_for(
            lambda p: p.snapshot().alerts is not None and not p.snapshot().alerts.active, 10)
        at.run()
        row = {r["process"]: r for r in table(at, "process")}["worker:gpu-pc:w1"]
        assert (row["state"], row["detail"]) == ("alive", "following the hub")


def test_monitor_page_without_a_hub_says_unreachable(dashboard_env):
    url = f"http://127.0.0.1:{free_port()}"
    dashboard_env(url)
    at = AppTest.from_file(str(MONITOR), default_timeout=TIMEOUT_S).run()
    assert not at.exception
    poller = get_monitor_poller(url)
    assert poller.wait_for(lambda p: p.snapshot().connection.state is LinkState.UNREACHABLE, 10)
    at.run()
    assert not at.exception
    assert "unreachable" in at.error[0].value and url in at.error[0].value
    # This dashboard's own machine and process are still shown.
    assert [r["roles"] for r in table(at, "host")] == ["dashboard"]
    assert [r["role"] for r in table(at, "process")] == ["dashboard"]


def test_poller_keeps_bounded_history_and_recovers_after_a_hub_restart(tmp_path):
    hub = RunningHub(heartbeat_interval_s=0.2, db_path=str(tmp_path / "hub.db")).start()
    poller = MonitorPoller(hub.url, period_s=0.1, reconnect_max_s=0.3, history_window_s=1.0).start()
    try:
        assert poller.wait_for(lambda p: p.snapshot().connection.connected and p.rounds >= 15, 15)
        assert poller.history.rows("host_cpu") == poller.history.maxlen == 11  # 1 s at 0.1 s, bounded
        hub.stop()
        assert poller.wait_for(lambda p: p.snapshot().connection.state is LinkState.UNREACHABLE, 10)
        assert poller.snapshot().processes  # the last answers stay, for context
        hub.start()
        assert poller.wait_for(lambda p: p.snapshot().connection.connected, 10)
    finally:
        poller.stop()
        hub.stop()
    assert not poller.is_alive() and poller.error is None
