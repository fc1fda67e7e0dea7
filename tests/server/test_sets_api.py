import sqlite3
import threading
import time
import uuid

import httpx
import pytest

from server.set_store import EmbeddedSetStore
from tests.redis_server import STORES, store_settings
from tests.support import RunningHub


@pytest.fixture(params=STORES)
def hub(request):
    """A real hub with embedded stores, then one with its state in Redis."""
    with RunningHub(**store_settings(request)) as running:
        yield running


def a_set(status="closed", reps=2, ended=2_000_000_000, **over):
    fault = {"code": "forward_lean", "severity": "warning", "cue": "Chest up", "view": "side",
             "value": 48.0, "threshold": 45.0, "unit": "deg", "rep": 1}
    body = {"set_id": uuid.uuid4().hex, "status": status, "end_reason": "rest" if status == "closed" else None,
            "started_at_ns": 1_000_000_000, "ended_at_ns": ended, "reference": "ref", "view": "side",
            "reps": reps, "mean_score": 80.5,
            "reps_detail": [{"rep": k + 1, "start_seq": 10 * k, "bottom_seq": 10 * k + 4, "end_seq": 10 * k + 9,
                             "score": 80.0 + k, "deviation_deg": {"knee": 5.0}, "faults": [fault] if k == 0 else [],
                             "view": "side"} for k in range(reps)],
            "faults": [fault]}
    body.update(over)
    return body


@pytest.mark.parametrize("kind", STORES)
def test_open_set_is_live_closed_set_is_listed_and_survives_restart(tmp_path, request, kind):
    shared = {"redis_url": request.getfixturevalue("redis_url")} if kind == "redis" else {}
    hub = RunningHub(db_path=str(tmp_path / "hub.db"), **shared).start()
    try:
        with httpx.Client(base_url=hub.url) as http:
            body = a_set(status="open", reps=1)
            r = http.put("/api/v1/cameras/side/set", json=body)
            assert r.status_code == 200 and r.json()["persisted"] is True
            assert http.get("/api/v1/cameras/side/set").json()["status"] == "open"
            assert http.get("/api/v1/sets").json()["sets"] == []  # open sets are not history yet
            closed = {**a_set(reps=2), "set_id": body["set_id"]}
            assert http.put("/api/v1/cameras/side/set", json=closed).status_code == 200
            assert http.put("/api/v1/cameras/side/set", json=closed).status_code == 200  # idempotent
            listed = http.get("/api/v1/sets").json()["sets"]
            assert [s["set_id"] for s in listed] == [body["set_id"]] and listed[0]["reps"] == 2
        hub.stop()
        hub.start()
        with httpx.Client(base_url=hub.url) as http:
            got = http.get(f"/api/v1/sets/{body['set_id']}").json()
            assert got["camera_id"] == "side" and got["saved_at"].endswith("Z")
            assert got["reps_detail"][0]["faults"][0]["threshold"] == 45.0
    finally:
        hub.stop()


def test_sets_newest_first_and_filtered_by_camera(hub):
    with httpx.Client(base_url=hub.url) as http:
        for cam, ended in [("a", 3), ("b", 5), ("a", 4)]:
            http.put(f"/api/v1/cameras/{cam}/set", json=a_set(ended=ended * 10**9)).raise_for_status()
        ends = [s["ended_at_ns"] for s in http.get("/api/v1/sets").json()["sets"]]
        assert ends == sorted(ends, reverse=True) and len(ends) == 3
        only_a = http.get("/api/v1/sets", params={"camera_id": "a", "limit": 1}).json()["sets"]
        assert len(only_a) == 1 and only_a[0]["camera_id"] == "a" and only_a[0]["ended_at_ns"] == 4 * 10**9


@pytest.mark.parametrize("over, field", [
    ({"set_id": "not-hex"}, "set_id"),
    ({"status": "done"}, "status"),
    ({"mean_score": 101}, "mean_score"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_set_body_is_a_422_naming_the_field(hub, over, field):
    with httpx.Client(base_url=hub.url) as http:
        r = http.put("/api/v1/cameras/side/set", json=a_set(**over))
        assert r.status_code == 422
        assert field in r.text and r.json()["error"]["code"]
        assert http.get("/api/v1/sets").json()["sets"] == []


def test_unknown_set_is_404(hub):
    r = httpx.get(f"{hub.url}/api/v1/sets/{uuid.uuid4().hex}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "set_not_found"
    r = httpx.get(f"{hub.url}/api/v1/cameras/nobody/set")
    assert r.status_code == 404 and r.json()["error"]["code"] == "no_set"


def test_locked_database_keeps_the_set_and_saves_it_later(tmp_path):
    path = tmp_path / "hub.db"
    store = EmbeddedSetStore(path, timeout_s=0.05)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    body = a_set()
    item, error = store.put("side", body)
    assert error is not None and "locked" in error and store.unsaved == 1
    assert [s["set_id"] for s in store.list()] == [body["set_id"]]  # still readable from memory
    blocker.execute("ROLLBACK")
    blocker.close()
    second = a_set(ended=3_000_000_000)
    assert store.put("side", second)[1] is None and store.unsaved == 0
    store.close()
    reopened = EmbeddedSetStore(path)
    assert {s["set_id"] for s in reopened.list()} == {body["set_id"], second["set_id"]}
    reopened.close()


def test_readers_never_wait_on_a_write_held_up_by_the_database_lock(tmp_path):
    path = tmp_path / "hub.db"
    store = EmbeddedSetStore(path, timeout_s=2.0)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    body = a_set()
    answer: list = []
    writer = threading.Thread(target=lambda: answer.append(store.put("side", body)), name="set-writer")
    try:
        writer.start()
        slowest, calls, seen = 0.0, 0, False
        # The writer waits out its 2 s busy timeout meanwhile; every read answers from memory.
        while writer.is_alive():
            t0 = time.perf_counter()
            live, unsaved, listed = store.live("side"), store.unsaved, store.list()
            store.last_error  # noqa: B018  (a property read is the call under test)
            slowest = max(slowest, time.perf_counter() - t0)
            calls += 1
            seen |= live is not None and live["set_id"] == body["set_id"] and unsaved == 1 \
                and [s["set_id"] for s in listed] == [body["set_id"]]
            threading.Event().wait(0.01)
    finally:
        writer.join(10)
        blocker.execute("ROLLBACK")
        blocker.close()
    assert calls >= 20 and slowest < 0.2, (calls, slowest)
    assert seen  # the set was readable while its write waited
    assert answer[0][1] is not None and "locked" in answer[0][1] and store.last_error == answer[0][1]
    assert store.retry() is None and store.unsaved == 0 and store.last_error is None
    store.close()


def test_an_open_update_arriving_after_its_set_closed_does_not_reopen_it(hub):
    body = a_set(status="open", reps=1)
    closed = {**a_set(reps=2), "set_id": body["set_id"]}
    with httpx.Client(base_url=hub.url) as http:
        http.put("/api/v1/cameras/side/set", json=body).raise_for_status()
        http.put("/api/v1/cameras/side/set", json=closed).raise_for_status()
        late = http.put("/api/v1/cameras/side/set", json=body).json()  # a retried, older update
        assert late["status"] == "closed" and late["reps"] == 2
        assert http.get("/api/v1/cameras/side/set").json()["status"] == "closed"
        assert [s["reps"] for s in http.get("/api/v1/sets").json()["sets"]] == [2]


def test_reads_from_short_lived_threads_do_not_pile_up_connections(tmp_path):
    """The hub's thread pool retires idle threads and starts new ones; every read from a new thread
    must not leave an open connection (and its page cache) behind."""
    import psutil

    store = EmbeddedSetStore(tmp_path / "hub.db")
    store.put("side", a_set())
    me = psutil.Process()

    def read_from_new_threads(n: int) -> None:
        for _ in range(n):
            t = threading.Thread(target=lambda: (store.list(), store.get("0" * 32)), name="pool-thread")
            t.start()
            t.join(5)

    read_from_new_threads(5)
    before = me.num_fds()
    read_from_new_threads(50)
    assert me.num_fds() <= before + 2, (before, me.num_fds())
    store.close()
