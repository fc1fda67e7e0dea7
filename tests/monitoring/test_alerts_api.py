"""Alerts on a real hub: fired and cleared by real conditions, logged in SQLite across restarts,
configured by settings (environment JSON) or a YAML file."""

from __future__ import annotations

import socket

import httpx
import pytest

from server.monitoring.alert_rules import AlertConfigError
from server.settings import HubSettings
from tests.conftest import synthetic_jpeg
from tests.monitoring.conftest import EventStream
from tests.support import RunningHub, wait_until


def alerts(hub_url: str, **params) -> dict:
    r = httpx.get(hub_url + "/api/v1/alerts", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def active(hub_url: str) -> dict[tuple[str, str], dict]:
    return {(a["rule"], a["subject"]): a for a in alerts(hub_url)["active"]}


def post_frame(hub_url: str, camera_id: str, seq: int, body: bytes | None = None) -> httpx.Response:
    return httpx.post(f"{hub_url}/api/v1/cameras/{camera_id}/frames", content=body or synthetic_jpeg(seq),
                      headers={"Content-Type": "image/jpeg", "X-Frame-Seq": str(seq),
                               "X-Capture-Time-Ns": str(1_700_000_000_000_000_000 + seq)})


def test_a_stale_camera_fires_a_critical_alert_that_clears_and_is_logged(tmp_path):
    with RunningHub(stale_after_s=0.3, monitor_interval_s=0.1, db_path=str(tmp_path / "hub.db")) as hub, \
            EventStream(hub.url, "alert") as events:
        assert post_frame(hub.url, "front", 0).status_code == 201
        fired = events.next_matching(lambda e: e["rule"] == "camera_stale", timeout=5)
        assert (fired["state"], fired["level"], fired["subject"]) == ("firing", "critical", "front")
        alert = active(hub.url)[("camera_stale", "front")]
        assert alert["message"] == "camera front is stale: no frame arrives"
        assert alert["since_ns"] == fired["time_ns"]

        assert post_frame(hub.url, "front", 1).status_code == 201
        cleared = events.next_matching(lambda e: e["rule"] == "camera_stale", timeout=5)
        assert cleared["state"] == "cleared"
        # The frame went stale again 0.3 s later, so only the log is checked from here.
        log = [(e["rule"], e["subject"], e["state"], e["level"]) for e in alerts(hub.url)["log"]]
        assert log[-2:] == [("camera_stale", "front", "cleared", "critical"),
                            ("camera_stale", "front", "firing", "critical")]
        entries = alerts(hub.url)["log"]
        assert entries == sorted(entries, key=lambda e: e["id"], reverse=True)  # newest first


def test_the_log_and_firing_alerts_survive_a_hub_restart(tmp_path):
    db = str(tmp_path / "hub.db")
    hub = RunningHub(stale_after_s=0.3, monitor_interval_s=0.1, db_path=db).start()
    try:
        post_frame(hub.url, "side", 0)
        assert wait_until(lambda: ("camera_stale", "side") in active(hub.url), timeout=5)
        before = active(hub.url)[("camera_stale", "side")]
        log_before = alerts(hub.url)["log"]
        hub.stop()
        hub.start()  # same port and database, fresh process state
        after = alerts(hub.url)
        by_id = {e["id"]: e for e in after["log"]}
        assert log_before and all(by_id.get(e["id"]) == e for e in log_before)
        # Still firing, since the moment it first fired; it clears once the camera sends again.
        resumed = {(a["rule"], a["subject"]): a for a in after["active"]}[("camera_stale", "side")]
        assert resumed["since_ns"] == before["since_ns"]
        post_frame(hub.url, "side", 1)
        assert wait_until(lambda: ("camera_stale", "side") not in active(hub.url), timeout=5)
        assert alerts(hub.url, limit=1)["log"][0]["state"] == "cleared"
    finally:
        hub.stop()


def test_refused_uploads_raise_the_error_rate_alert(tmp_path):
    rules = {"error_rate_high": {"for_s": 0}}
    with RunningHub(monitor_interval_s=0.1, alert_rules=rules, db_path=str(tmp_path / "hub.db")) as hub:
        for seq in range(30):
            assert post_frame(hub.url, "front", seq, b"not a jpeg at all").status_code in (415, 422)
        assert wait_until(lambda: ("error_rate_high", "hub") in active(hub.url), timeout=5)
        alert = active(hub.url)[("error_rate_high", "hub")]
        assert alert["level"] == "critical" and alert["value"] > 5


def test_rules_from_the_environment_apply_to_the_hubs_own_host(monkeypatch, tmp_path):
    # Disk free below 100 % holds on any real disk: fires at once on the hub's own heartbeat.
    monkeypatch.setenv("FORMSYNC_HUB_ALERT_RULES",
                       '{"disk_low": {"threshold": 100, "clear_threshold": 100, "for_s": 0}}')
    hub = RunningHub(monitor_interval_s=0.1, heartbeat_interval_s=0.2, db_path=str(tmp_path / "hub.db"))
    assert hub.settings.alert_rules["disk_low"]["threshold"] == 100
    with hub:
        key = ("disk_low", socket.gethostname())
        assert wait_until(lambda: key in active(hub.url), timeout=5)
        assert active(hub.url)[key]["level"] == "warning"
        rules = {r["name"]: r for r in alerts(hub.url)["rules"]}
        assert rules["disk_low"]["threshold"] == 100 and rules["cpu_high"]["threshold"] == 80


def test_a_bad_rules_file_stops_the_hub_with_a_message(tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text("rules:\n  cpu_high: {threshold: 90, clear_threshold: 95}\n")
    with pytest.raises(AlertConfigError,
                       match="alert rule 'cpu_high'.*clear_threshold 95 must be <= threshold 90"):
        RunningHub(alert_rules_file=str(path), db_path=str(tmp_path / "hub.db")).start()
    assert HubSettings(alert_rules_file=str(path)).alert_rules_file == str(path)


def test_bad_query_gets_a_json_error(hub):
    r = httpx.get(hub.url + "/api/v1/alerts", params={"limit": 0})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    assert "limit" in r.json()["error"]["message"]
