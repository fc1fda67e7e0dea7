"""Cameras streaming while another connection holds the hub database's write lock for 3 s: a
worker saves a closed set meanwhile and a dashboard reads the live set every 50 ms. No frame is
refused and no upload or read waits on the lock (before, the live-set read waited on the set
write's 2 s busy timeout on the event loop, and every upload with it).

The latency figures themselves (p99 under 20 ms while locked) are ``bench/set_lock.py``'s; this
test keeps the bounds that tell "waited on the lock" (about 2 s) from a loaded machine.
"""

from __future__ import annotations

import sqlite3

import pytest

from bench.ingest import load_jpegs, percentile
from bench.set_lock import run_phase
from tests.reliability.processes import HubProcess
from tests.support import squat_clip, wait_until

CLIP = squat_clip("front_barbell_gymvision.mp4")
pytestmark = pytest.mark.skipif(not CLIP.exists(), reason=f"shared footage not found at {CLIP.parent}")

LOCK_S = 3.0
# Waiting on the lock costs the hub's busy timeout, 2 s; a loaded 2-core machine adds tens of ms.
WAITED_ON_LOCK_S = 0.5


def saved(db) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute("SELECT count(*) FROM sets").fetchone()[0]
    finally:
        con.close()


def test_uploads_and_reads_never_wait_on_a_locked_database(tmp_path):
    hub = HubProcess(tmp_path).start()
    jpegs = load_jpegs(CLIP, count=10)
    try:
        free = run_phase(hub.url, None, jpegs, seconds=LOCK_S, cameras=2, fps=30)
        locked = run_phase(hub.url, tmp_path / "hub.db", jpegs, seconds=LOCK_S, cameras=2, fps=30,
                           first_seq=1000)
        # The lock was real: the set could not be written and the PUT waited out the busy timeout.
        assert free.persisted is True and locked.persisted is False and locked.put_s >= 1.5
        assert not free.refused and not locked.refused, locked.refused[:3]
        # Paced at 30 fps x 2 cameras: a stalled event loop would have skipped slots.
        assert len(locked.latencies) >= 0.9 * 2 * 30 * LOCK_S
        assert max(locked.latencies) < WAITED_ON_LOCK_S and locked.slowest_read_s < WAITED_ON_LOCK_S
        p99_free = percentile(sorted(free.latencies), 0.99)
        p99_locked = percentile(sorted(locked.latencies), 0.99)
        assert p99_locked < max(0.020, 3 * p99_free), (p99_locked, p99_free)
        # Once the lock is gone the hub's retry writes the set by itself.
        assert wait_until(lambda: saved(tmp_path / "hub.db") == 2, 10)
    finally:
        hub.stop()
    assert "Traceback" not in hub.log()
