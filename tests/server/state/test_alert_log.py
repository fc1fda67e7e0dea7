"""The alert log, embedded (SQLite) and in Redis: entries newest first, what is still firing, kept
across a restart, one log with unique ids for several hubs."""

from __future__ import annotations

import threading

import pytest

from server.monitoring.alert_log import open_alert_log
from server.monitoring.alerts import Transition

T0 = 1_780_000_000_123_456_789


def transition(rule: str, subject: str, state: str, at: int, since: int | None = None) -> Transition:
    return Transition(rule, subject, "warning", state, 91.5, 90.0, T0 + at, T0 + (at if since is None else since),
                      f"{rule} on {subject} {state}")


@pytest.fixture
def open_log(tmp_path, state_redis_url):
    opened = []

    def new():
        opened.append(open_alert_log(tmp_path / "hub.db", state_redis_url))
        return opened[-1]

    yield new
    for log in opened:
        log.close()


def test_entries_newest_first_and_what_is_still_firing_survive_a_restart(open_log):
    log = open_log()
    assert log.append([]) == 0 and log.recent() == [] and log.firing() == []
    assert log.append([transition("cpu_high", "hub", "firing", 1), transition("process_lost", "w1", "firing", 2)]) == 2
    assert log.append([transition("cpu_high", "hub", "cleared", 3, since=1)]) == 1
    recent = log.recent()
    assert [(e["rule"], e["state"]) for e in recent] == [
        ("cpu_high", "cleared"), ("process_lost", "firing"), ("cpu_high", "firing")]
    assert [e["id"] for e in recent] == sorted((e["id"] for e in recent), reverse=True)
    assert recent[0]["time_ns"] == T0 + 3 and recent[0]["since_ns"] == T0 + 1  # exact ns
    assert recent[0]["value"] == 91.5 and recent[0]["threshold"] == 90.0 and recent[0]["level"] == "warning"
    assert [e["rule"] for e in log.recent(1)] == ["cpu_high"]
    log.close()
    again = open_log()
    assert [(e["rule"], e["subject"]) for e in again.firing()] == [("process_lost", "w1")]
    assert len(again.recent()) == 3


def test_hubs_writing_at_once_share_one_log_with_unique_ids(redis_url, tmp_path):
    hubs = [open_alert_log(tmp_path / "hub.db", redis_url) for _ in range(3)]
    try:
        def write(k: int) -> None:
            for n in range(20):
                hubs[k].append([transition("disk_low", f"host{k}", "firing" if n % 2 == 0 else "cleared", n)])

        threads = [threading.Thread(target=write, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        entries = hubs[0].recent(1000)
        assert len(entries) == 60 and len({e["id"] for e in entries}) == 60
        assert hubs[1].firing() == []  # each host's last entry cleared it
    finally:
        for h in hubs:
            h.close()


def test_an_alert_every_hub_fires_on_a_shared_subject_is_logged_once_per_change(redis_url, tmp_path):
    hub_a, hub_b = (open_alert_log(tmp_path / "hub.db", redis_url) for _ in range(2))
    try:
        assert hub_a.append([transition("process_lost", "worker:pc", "firing", 1)]) == 1
        assert hub_b.append([transition("process_lost", "worker:pc", "firing", 2)]) == 0  # the same change
        assert hub_b.append([transition("process_lost", "worker:pc", "cleared", 3, since=2)]) == 1
        assert hub_a.append([transition("process_lost", "worker:pc", "cleared", 4, since=1)]) == 0
        assert [e["state"] for e in hub_a.recent()] == ["cleared", "firing"] and hub_b.firing() == []
    finally:
        hub_a.close()
        hub_b.close()
