"""Pure helpers of the Monitor page: ring buffers, table rows, banner texts."""

from __future__ import annotations

import math

import pytest

from formsync.wire.frames import CameraOut
from formsync.wire.leases import LeaseList
from formsync.wire.monitoring import ActiveAlertOut, AlertsOut, HeartbeatOut
from streamlit_app.models import HubConnection, LinkState
from streamlit_app.monitor.history import History
from streamlit_app.monitor.models import MonitorSnapshot
from streamlit_app.monitor.render import (
    banner_lines,
    format_bytes,
    format_rate,
    host_rows,
    pipeline_rows,
    process_rows,
)

S = 1_000_000_000


def test_history_is_a_bounded_ring_of_the_last_window():
    h = History(window_s=10, period_s=1)
    for t in range(1000):
        h.add("cpu", t * S, {"hub-pc": float(t), "cam-pc": None if t % 2 else 1.0})
    assert h.rows("cpu") == h.maxlen == 11  # 1000 rows added, 11 kept
    frame = h.frame("cpu", now_ns=999 * S)
    assert list(frame.columns) == ["cam-pc", "hub-pc"]
    assert list(frame["hub-pc"]) == [float(t) for t in range(989, 1000)]
    assert math.isnan(frame["cam-pc"].iloc[-1]) and frame["cam-pc"].iloc[-2] == 1.0  # None: a gap
    # Rows older than the window are not charted, even when nothing newer came.
    assert h.frame("cpu", now_ns=2000 * S).empty
    assert h.frame("unknown", now_ns=0).empty


def test_history_caps_series_per_row():
    h = History(window_s=5, period_s=1, max_series=3)
    h.add("fps", 0, {f"cam{i:02d}": 1.0 for i in range(50)})
    assert list(h.frame("fps", 0).columns) == ["cam00", "cam01", "cam02"]
    with pytest.raises(ValueError):
        History(window_s=0)


def test_units():
    assert format_bytes(None) is None
    assert [format_bytes(n) for n in (512, 1_500, 2_500_000, 77_664_546_816)] == \
        ["512 B", "1.5 kB", "2.5 MB", "77.7 GB"]
    assert format_rate(12_345) == "12.3 kB/s"


def heartbeat(process_id: str, role: str, host: str, lost: bool = False, received: int = 0,
              **fields) -> HeartbeatOut:
    return HeartbeatOut.model_validate({
        "process_id": process_id, "role": role, "interval_s": 2.0, "received_time_ns": received,
        "age_s": 0.5, "lost": lost, "sent_time_ns": received, "heartbeats_total": 1,
        "host": {"hostname": host, "cpu_percent": 50.0 if not lost else 99.0, "memory_percent": 40.0,
                 "memory_used_bytes": 4_000_000_000, "memory_total_bytes": 10_000_000_000},
        "process": {"pid": 7, "name": "formsync", "cpu_percent": 5.0, "rss_bytes": 1_000_000}, **fields})


def camera(camera_id: str, online: bool = True, fps: float = 30.0) -> CameraOut:
    return CameraOut(camera_id=camera_id, online=online, fps=fps, seq=1, last_capture_time_ns=1,
                     age_ms=40.0, width=640, height=360, frames_total=2, gaps=0, clock_offset_ms=-2.0)


def snapshot(processes=(), cameras=(), alerts=None, connected=True, local_host=None, leases=None) -> MonitorSnapshot:
    state = LinkState.CONNECTED if connected else LinkState.UNREACHABLE
    return MonitorSnapshot(0, HubConnection("http://hub", state, 0), tuple(processes), tuple(cameras), alerts,
                           local_host, None, leases)


def test_hosts_take_the_newest_live_heartbeat_and_list_every_role():
    snap = snapshot([
        heartbeat("hub:pc1:8000", "hub", "pc1", received=2),
        heartbeat("client:pc1:front", "client", "pc1", received=1),
        heartbeat("client:pc2:side", "client", "pc2", lost=True),
    ], local_host={"hostname": "laptop", "cpu_percent": 12.0, "unavailable": ["temperature"]})
    rows = {r["host"]: r for r in host_rows(snap)}
    assert rows["pc1"]["roles"] == "client, hub" and rows["pc1"]["CPU %"] == 50.0
    assert rows["pc1"]["memory"] == "4.0 GB of 10.0 GB" and rows["pc1"]["state"] == "up"
    assert rows["pc2"] == {"host": "pc2", "roles": "client", "state": "lost"}  # no current figures
    assert rows["laptop"]["roles"] == "dashboard" and rows["laptop"]["state"] == "up (n/a: temperature)"


def test_pipeline_joins_client_hub_and_worker_figures_per_camera():
    link = {"camera_id": "front", "capture_fps": 30.0, "sent_fps": 28.0, "dropped_total": 5,
            "clock_offset_ms": -3.0, "captured_total": 900, "sent_total": 840, "rejected_total": 0,
            "failed_total": 0, "hub_url": "http://hub-2.local:8001"}
    target = {"tier": 1, "fps": 21.0, "width": 640, "jpeg_quality": 75,
              "reason": "analysis behind: 31 % of frames skipped", "since_ns": 1}
    leases = LeaseList(leases=[{"camera_id": "front", "worker_id": "a", "instance": "0123abcd", "expires_in_ms": 900}],
                       workers=[])
    counts = {"analysed_total": 60, "skipped_total": 0, "rejected_total": 0}
    snap = snapshot([
        heartbeat("client:pc1:front+side", "client", "pc1",
                  cameras=[{**link, "quality": target}, {**link, "camera_id": "side"}]),
        heartbeat("worker:pc3:a", "worker", "pc3", analysis=[{"camera_id": "front", "analysis_fps": 6.0, **counts}]),
        heartbeat("worker:pc3:b", "worker", "pc3", analysis=[{"camera_id": "front", "analysis_fps": 4.0, **counts}]),
        heartbeat("worker:pc4:c", "worker", "pc4", lost=True,
                  analysis=[{"camera_id": "front", "analysis_fps": 9.0, **counts}]),
    ], cameras=[camera("front"), camera("back", online=False)], leases=leases)
    rows = {r["camera"]: r for r in pipeline_rows(snap)}
    assert rows["front"] == {"camera": "front", "state": "online", "capture fps": 30.0, "sent fps": 28.0,
                             "hub fps": 30.0, "analysis fps": 10.0, "drops": 5, "frame age ms": 40.0,
                             "clock offset ms": -2.0, "hub": "hub-2.local:8001",
                             "worker": "a",  # the lost worker's 9 fps is the past
                             "tier": "1: 21 fps, 640 px, q75", "why": "analysis behind: 31 % of frames skipped"}
    assert rows["side"]["hub"] == "hub-2.local:8001" and rows["side"]["worker"] is None
    assert rows["side"]["tier"] is None and rows["side"]["why"] is None  # adaptive quality off
    assert rows["back"]["state"] == "stale" and rows["back"]["capture fps"] is None
    assert rows["side"]["state"] == "no frames" and rows["side"]["clock offset ms"] == -3.0
    offline = snapshot(cameras=[camera("front")], connected=False)
    assert {r["state"] for r in pipeline_rows(offline)} == {"unknown"}


def test_banner_lines_per_level():
    def alert(level: str, i: int) -> ActiveAlertOut:
        return ActiveAlertOut(rule="r", subject=str(i), level=level, since_ns=i, value=None, threshold=1.0,
                              message=f"{level} {i}")

    alerts = AlertsOut(active=[alert("critical", i) for i in range(5)] + [alert("warning", 9)], log=[], rules=[])
    critical, warning = banner_lines(alerts)
    assert critical == "**5 critical:** critical 0; critical 1; critical 2 (+2 more)"
    assert warning == "**1 warning:** warning 9"
    assert banner_lines(AlertsOut(active=[], log=[], rules=[])) == (None, None) and banner_lines(None) == (None, None)


def test_a_worker_that_does_not_follow_the_hub_says_so_and_why():
    link = {"following": False, "follow_error": "WSServerHandshakeError: 502 Bad Gateway",
            "follower_restarts_total": 4, "bad_events_total": 2, "sets_pending": 3, "sets_sent_total": 9}
    snap = snapshot([
        heartbeat("worker:pc:w1", "worker", "pc", worker=link),
        heartbeat("worker:pc:w2", "worker", "pc", worker={**link, "following": True, "follow_error": None,
                                                          "sets_pending": 0, "bad_events_total": 0}),
        heartbeat("worker:pc:w3", "worker", "pc", lost=True, worker=link),
        heartbeat("client:pc:front", "client", "pc"),
    ])
    rows = {r["process"]: r for r in process_rows(snap, "dashboard:pc")}
    assert rows["worker:pc:w1"]["state"] == "alive, not following the hub"
    assert rows["worker:pc:w1"]["detail"] == (
        "not following the hub: WSServerHandshakeError: 502 Bad Gateway; "
        "3 set update(s) not yet acknowledged; 2 malformed event(s) skipped")
    assert (rows["worker:pc:w2"]["state"], rows["worker:pc:w2"]["detail"]) == ("alive", "following the hub")
    assert rows["worker:pc:w3"]["state"] == "lost"  # what it said last no longer holds
    assert (rows["client:pc:front"]["state"], rows["client:pc:front"]["detail"]) == ("alive", None)
