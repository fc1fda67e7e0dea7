"""Saving a closed set while the disk is full or the SQLite file is locked: the PUT says so
(``persisted: false`` with the error), the set stays readable from memory, the Coach page shows the
error, and the hub writes the set by itself once the disk or the lock is free; a crash after that
loses nothing.

"Disk full": the hub process's file-size limit (RLIMIT_FSIZE, set from here with ``prlimit``) is
lowered to the database's current size, so SQLite's next write fails in the kernel as it would on
a full disk (EFBIG rather than ENOSPC: SQLite reports a disk I/O error). Lock: another connection
holds an exclusive transaction, as a backup tool or a second hub on the same file would.
"""

from __future__ import annotations

import json
import resource
import sqlite3
import threading
from pathlib import Path

import httpx
import pytest
from streamlit.testing.v1 import AppTest
from websockets.sync.client import connect

from streamlit_app.resources import get_poller
from tests.reliability.processes import HubProcess
from tests.server.test_sets_api import a_set
from tests.support import ROOT, wait_until

COACH = ROOT / "pages" / "coach.py"
RETRY_WITHIN_S = 5.0 + 3.0  # server/recovery.py retries every 5 s


def saved_ids(db: Path) -> set[str]:
    """Set ids in the SQLite file itself (read-only: asking the hub would make it retry)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return {row[0] for row in con.execute("SELECT set_id FROM sets")}
    finally:
        con.close()


class DiskFull:
    """Caps the hub process's file sizes at the database's current size (its WAL file is the one
    that grows), and lifts the cap again."""

    def __init__(self, hub: HubProcess, db: Path) -> None:
        self.hub, self.db = hub, db

    def __enter__(self) -> DiskFull:
        cap = max(p.stat().st_size for p in self.db.parent.glob(self.db.name + "*"))
        assert self.hub.log_path.stat().st_size < cap / 2  # its log file must still fit
        resource.prlimit(self.hub.pid, resource.RLIMIT_FSIZE, (cap, resource.RLIM_INFINITY))
        return self

    def clear(self) -> None:
        resource.prlimit(self.hub.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    def __exit__(self, *exc) -> None:
        if self.hub.proc.poll() is None:
            self.clear()


class Locked:
    """Another connection holding the database's write lock."""

    def __init__(self, db: Path) -> None:
        self.con = sqlite3.connect(db, isolation_level=None)

    def __enter__(self) -> Locked:
        self.con.execute("BEGIN EXCLUSIVE")
        return self

    def clear(self) -> None:
        if self.con.in_transaction:
            self.con.execute("ROLLBACK")

    def __exit__(self, *exc) -> None:
        self.clear()
        self.con.close()


@pytest.fixture
def hub(tmp_path):
    running = HubProcess(tmp_path).start()
    yield running
    running.stop()


@pytest.mark.parametrize("fault, error", [("disk_full", "disk I/O error"), ("locked", "database is locked")])
def test_a_set_the_database_refuses_is_kept_shown_and_saved_later(hub, tmp_path, fault, error):
    db = tmp_path / "hub.db"
    first, second = a_set(ended=3 * 10**9), a_set(ended=4 * 10**9)
    events: list[dict] = []
    subscribed = threading.Event()

    def follow() -> None:
        with connect(hub.url.replace("http", "ws") + "/api/v1/events?types=set") as ws:
            subscribed.set()
            while len(events) < 2:
                events.append(json.loads(ws.recv(15)))

    listener = threading.Thread(target=follow, name="set-events")
    listener.start()
    assert subscribed.wait(10)
    with httpx.Client(base_url=hub.url, timeout=10) as http:
        assert http.put("/api/v1/cameras/side/set", json=first).json()["persisted"] is True
        with DiskFull(hub, db) if fault == "disk_full" else Locked(db) as blocked:
            r = http.put("/api/v1/cameras/side/set", json=second).json()
            assert r["persisted"] is False and error in r["persist_error"]
            listed = http.get("/api/v1/sets").json()
            assert listed["unsaved"] == 1 and error in listed["persist_error"]
            assert [s["set_id"] for s in listed["sets"]] == [second["set_id"], first["set_id"]]
            assert http.get(f"/api/v1/sets/{second['set_id']}").json()["reps"] == second["reps"]
            if fault == "disk_full":
                assert second["set_id"] not in saved_ids(db)
            blocked.clear()
            # Nobody saves or reads a set now: the hub's own retry writes it.
            assert wait_until(lambda: second["set_id"] in saved_ids(db), RETRY_WITHIN_S)
        listed = http.get("/api/v1/sets").json()
        assert listed["unsaved"] == 0 and listed["persist_error"] is None
    listener.join(10)
    assert [e["persisted"] for e in events] == [True, False]
    hub.kill()  # a crash after the retry loses nothing
    hub.start()
    ids = [s["set_id"] for s in httpx.get(hub.url + "/api/v1/sets").json()["sets"]]
    assert ids == [second["set_id"], first["set_id"]]
    assert "could not save 1 set(s), keeping them in memory" in hub.log()


def test_the_coach_page_shows_unsaved_sets_until_they_are_saved(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("FORMSYNC_HUB_URL", hub.url)
    db = tmp_path / "hub.db"
    with httpx.Client(base_url=hub.url, timeout=10) as http:
        http.put("/api/v1/cameras/side/set", json=a_set()).raise_for_status()
        try:
            with DiskFull(hub, db) as full:
                assert http.put("/api/v1/cameras/side/set", json=a_set(ended=5 * 10**9)).json()["persisted"] is False
                at = AppTest.from_file(str(COACH), default_timeout=30).run()
                poller = get_poller(hub.url)
                assert poller.wait_for(lambda p: p.set_saving().unsaved == 1, 15)
                at.run()
                assert not at.exception
                warning = next(w.value for w in at.warning if "could not be saved" in w.value)
                assert "1 finished set(s)" in warning and "disk I/O error" in warning
                assert len(at.dataframe[0].value) == 2  # both sets in the history, one from memory
                full.clear()
                assert poller.wait_for(lambda p: p.set_saving().unsaved == 0, RETRY_WITHIN_S + 3)
                at.run()
                assert not any("could not be saved" in w.value for w in at.warning)
        finally:
            get_poller.clear()
