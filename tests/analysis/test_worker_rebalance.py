"""A worker started after another has taken every camera gets its share: the busier worker hands
a camera over when one of its sets ends, so no set is split and none is closed as lost."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx

from analysis.leases import should_hand_over
from analysis.worker import AnalysisWorker
from formsync.wire.leases import LeaseList, WorkerLoad
from tests.analysis.test_worker_leases import CAMERAS, feed, holders
from tests.analysis.test_worker_scheduling import run_worker
from tests.analysis.test_worker_set_delivery import RepEveryFrame
from tests.support import RunningHub, wait_until

TTL_MS = 1000


def _listing(*loads: tuple[str, int, int]) -> LeaseList:
    return LeaseList(leases=[], workers=[WorkerLoad(worker_id=w, instance="a" * 16, cameras=c, max_cameras=m)
                                         for w, c, m in loads])


def test_a_camera_is_handed_over_only_to_a_worker_with_two_fewer_and_room():
    me = ("a", "a" * 16)
    assert should_hand_over(*me, 4, _listing(("a", 4, 8), ("b", 0, 8)))
    assert should_hand_over(*me, 3, _listing(("a", 3, 8), ("b", 1, 8), ("c", 3, 8)))
    assert not should_hand_over(*me, 3, _listing(("a", 3, 8), ("b", 2, 8)))  # would only swap loads
    assert not should_hand_over(*me, 4, _listing(("a", 4, 8), ("b", 1, 1)))  # b is full
    assert not should_hand_over(*me, 4, _listing(("a", 4, 8)))  # alone
    # Another instance of the same worker id is another worker (a restart not yet expired).
    assert should_hand_over("a", "b" * 16, 4, _listing(("a", 0, 8), ("a", 4, 8)))


def test_a_worker_started_later_gets_its_share_at_the_end_of_sets(tmp_path):
    hub = RunningHub(stale_after_s=30).start()
    first = AnalysisWorker(hub.url, lambda cam: RepEveryFrame(), worker_id="w-first",
                           spool_dir=tmp_path / "spool-first", lease_ttl_ms=TTL_MS)
    later = AnalysisWorker(hub.url, lambda cam: RepEveryFrame(), worker_id="w-later",
                           spool_dir=tmp_path / "spool-later", lease_ttl_ms=TTL_MS)
    stop_first, stop_later, stop_feed = threading.Event(), threading.Event(), threading.Event()
    threads = [run_worker(first, stop_first)]
    feeder = feed(hub.url, stop_feed, clip_frames=15)  # each replay of the 15-frame clip ends a set
    try:
        with httpx.Client(base_url=hub.url) as http:
            assert wait_until(lambda: holders(http) == dict.fromkeys(CAMERAS, "w-first"), 10), holders(http)
            threads.append(run_worker(later, stop_later))
            assert wait_until(lambda: Counter(holders(http).values()) == {"w-first": 2, "w-later": 2}, 15), \
                holders(http)
            time.sleep(2 * TTL_MS / 1e3)  # balanced, it stays so
            assert Counter(holders(http).values()) == {"w-first": 2, "w-later": 2}
            stop_feed.set()
            feeder.join(5)
            stop_first.set()
            stop_later.set()
            for t in threads:
                t.join(15)
            sets = http.get("/api/v1/sets", params={"limit": 500}).json()["sets"]
    finally:
        stop_feed.set()
        stop_first.set()
        stop_later.set()
        for t in threads:
            t.join(15)
        hub.stop()
    assert sets and not [s for s in sets if s["end_reason"] == "worker_lost"]
    # A set is whole: one camera's sets never overlap in time, whichever worker analysed them.
    for cam in CAMERAS:
        spans = sorted((s["started_at_ns"], s["ended_at_ns"]) for s in sets if s["camera_id"] == cam)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:])), (cam, spans)
