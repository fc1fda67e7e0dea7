"""HubPoller against a real hub (uvicorn on a loopback port)."""

from __future__ import annotations

import asyncio
import threading
import time

import aiohttp
import pytest

from formsync.hub_client import HubClient
from streamlit_app.models import LinkState
from streamlit_app.poller import HubPoller
from tests.streamlit_app.conftest import OFFSETS_NS, UNCERTAINTY_NS, post_frame, post_synced_pair
from tests.support import RunningHub, free_port


@pytest.fixture
def make_poller():
    started: list[HubPoller] = []

    def make(url: str, **kwargs) -> HubPoller:
        kwargs.setdefault("reconnect_max_s", 0.5)
        poller = HubPoller(url, **kwargs).start()
        started.append(poller)
        return poller

    yield make
    for poller in started:
        poller.stop()
        assert not poller.is_alive()
        assert poller.error is None


def connected(p: HubPoller) -> bool:
    return p.connection().connected


def newest_seq(camera_id: str, seq: int):
    def check(p: HubPoller) -> bool:
        _, frame = p.frame(camera_id).read()
        return frame is not None and frame.seq == seq
    return check


def test_keeps_the_newest_frame_of_each_camera_and_the_sync_set(hub, camera_jpegs, make_poller):
    poller = make_poller(hub.url)
    assert poller.wait_for(connected, 5)
    assert poller.name in {t.name for t in threading.enumerate()}
    for seq in range(5):
        for cam, jpegs in camera_jpegs.items():
            post_frame(hub.url, cam, seq, jpegs[seq])

    assert poller.wait_for(lambda p: all(newest_seq(c, 4)(p) for c in camera_jpegs), 5)
    for cam, jpegs in camera_jpegs.items():
        _, frame = poller.frame(cam).read()
        assert frame.jpeg == jpegs[4]
        assert frame.width == 480 and frame.capture_time_ns <= frame.hub_receive_time_ns
    assert poller.wait_for(lambda p: [c.camera_id for c in p.cameras()] == ["front", "side"], 5)
    assert poller.wait_for(lambda p: p.sync_set() is not None, 5)
    sync = poller.sync_set()
    assert {f.camera_id for f in sync.frames} == {"front", "side"}
    times = [f.capture_time_ns for f in sync.frames]
    assert sync.spread_ms == pytest.approx((max(times) - min(times)) / 1e6, abs=1e-3)


def gated_client() -> type[HubClient]:
    """A HubClient class (fresh per test) that holds its first frame fetch until ``gate`` is
    set and records how many fetches ran and how many at once."""

    class GatedClient(HubClient):
        gate = threading.Event()
        first_fetch_started = threading.Event()
        fetches = 0
        inflight = 0
        max_inflight = 0

        async def latest_frame(self, camera_id):
            return await _gated_fetch(type(self), super().latest_frame, camera_id)

    return GatedClient


async def _gated_fetch(cls, fetch, camera_id):
    cls.fetches += 1
    cls.inflight += 1
    cls.max_inflight = max(cls.max_inflight, cls.inflight)
    try:
        if not cls.first_fetch_started.is_set():
            cls.first_fetch_started.set()
            await asyncio.to_thread(cls.gate.wait, 5)
        return await fetch(camera_id)
    finally:
        cls.inflight -= 1


def test_frame_fetches_coalesce_one_in_flight_per_camera(hub, camera_jpegs, make_poller):
    jpeg = camera_jpegs["front"][0]
    GatedClient = gated_client()
    # Long refreshes: only frame events trigger fetches here.
    poller = make_poller(hub.url, client_factory=GatedClient, cameras_refresh_s=10, sync_refresh_s=10)
    assert poller.wait_for(connected, 5)
    poller.frame("front")  # a page reads it: its frames are fetched
    post_frame(hub.url, "front", 0, jpeg)
    assert GatedClient.first_fetch_started.wait(5)
    for seq in range(1, 30):  # 29 events arrive while the first fetch is held
        post_frame(hub.url, "front", seq, jpeg)
    GatedClient.gate.set()

    assert poller.wait_for(newest_seq("front", 29), 5)
    assert GatedClient.max_inflight == 1
    # The held fetch brings seq 29; events queued meanwhile cost at most one more fetch.
    assert GatedClient.fetches <= 2
    assert poller.frame("front").version == 1  # the repeat fetch found the same frame: no new version


def test_reports_unreachable_and_recovers_when_the_hub_returns(hub, camera_jpegs, make_poller):
    jpeg = camera_jpegs["side"][0]
    poller = make_poller(hub.url)
    assert poller.wait_for(connected, 5)
    hub.stop()

    assert poller.wait_for(lambda p: p.connection().state is LinkState.UNREACHABLE, 10)
    down = poller.connection()
    assert down.last_error and down.attempts >= 1
    assert poller.wait_for(lambda p: p.connection().attempts >= 2, 10)
    assert poller.connection().since_ns == down.since_ns  # "since" is the first failure

    hub.start()
    assert poller.wait_for(connected, 10)
    post_frame(hub.url, "side", 7, jpeg)
    assert poller.wait_for(newest_seq("side", 7), 5)


def test_without_a_hub_it_keeps_retrying_and_stops_promptly(make_poller):
    poller = make_poller(f"http://127.0.0.1:{free_port()}")
    assert poller.wait_for(lambda p: p.connection().attempts >= 2, 10)
    conn = poller.connection()
    assert conn.state is LinkState.UNREACHABLE and "127.0.0.1" in conn.last_error
    poller.stop(timeout=5)
    assert not poller.is_alive()


def test_stale_camera_is_marked_offline(camera_jpegs, make_poller):
    # The listing (every 0.1 s) sees the camera online well within the 1 s stale delay; the
    # stale event or the next listing then turns it offline.
    with RunningHub(stale_after_s=1.0) as hub:
        poller = make_poller(hub.url, cameras_refresh_s=0.1)
        assert poller.wait_for(connected, 5)
        post_frame(hub.url, "side", 0, camera_jpegs["side"][0])
        assert poller.wait_for(lambda p: [c.online for c in p.cameras()] == [True], 5)
        assert poller.wait_for(lambda p: [c.online for c in p.cameras()] == [False], 5)


def synced_seq(seq: int):
    """The poller shows the set of frames ``seq``. After posting pairs up to seq n, the hub's
    newest set is n - 1: it closes a set only once every camera has a frame at or after the set's
    pivot (the later frame), as a later frame could still fit better."""
    def check(p: HubPoller) -> bool:
        synced = p.synced_images()
        return synced is not None and {f.seq for f in synced.sync_set.frames} == {seq}
    return check


def test_synced_images_are_the_images_of_one_set(hub, camera_jpegs, make_poller):
    poller = make_poller(hub.url)
    assert poller.wait_for(connected, 5)
    base = time.time_ns()
    for seq in range(5):
        post_synced_pair(hub.url, camera_jpegs, seq, base)

    assert poller.wait_for(synced_seq(3), 5)
    sync, images = poller.synced_images()
    assert sorted(images) == ["front", "side"]
    for f in sync.frames:
        image = images[f.camera_id]
        assert (image.seq, image.capture_time_ns, image.source_frame) == (f.seq, f.capture_time_ns, 3)
        assert image.jpeg == camera_jpegs[f.camera_id][3]
        assert (f.clock_offset_ns, f.clock_uncertainty_ns) == (OFFSETS_NS[f.camera_id], UNCERTAINTY_NS)
    assert sync.spread_ms == pytest.approx(2.0)
    assert sync.max_spread_ms == hub.settings.sync_max_spread_ms
    assert sync.max_uncertainty_ms == pytest.approx(0.3)
    with pytest.raises(TypeError):
        images["front"] = image  # a shared snapshot: read-only
    assert poller.wait_for(lambda p: [(c.clock_offset_ms, c.clock_uncertainty_ms) for c in p.cameras()]
                           == [(-350.0, 0.3), (800.0, 0.3)], 5)


def test_a_set_is_not_shown_until_all_its_images_arrive(hub, camera_jpegs, make_poller):
    class LosesSide(HubClient):
        """As if every ``side`` frame had left the ring before it was asked for."""

        async def frame(self, camera_id, seq):
            return None if camera_id == "side" else await super().frame(camera_id, seq)

    poller = make_poller(hub.url, client_factory=LosesSide)
    assert poller.wait_for(connected, 5)
    poller.synced_images()  # a page reads the sets' images
    base = time.time_ns()
    for seq in range(3):
        post_synced_pair(hub.url, camera_jpegs, seq, base)
    assert poller.wait_for(lambda p: p.sync_set() is not None and p.sync_incomplete >= 1, 5)
    assert poller.synced_images() is None


def test_synced_image_fetches_coalesce_one_set_at_a_time(hub, camera_jpegs, make_poller):
    class GatedFrames(HubClient):
        """Holds the first by-seq fetch until ``gate`` is set; records fetches per camera."""

        gate = threading.Event()
        first_fetch_started = threading.Event()
        fetches = 0
        inflight: dict[str, int] = {}
        max_inflight = 0

        async def frame(self, camera_id, seq):
            cls = type(self)
            cls.fetches += 1
            cls.inflight[camera_id] = cls.inflight.get(camera_id, 0) + 1
            cls.max_inflight = max(cls.max_inflight, cls.inflight[camera_id])
            try:
                if not cls.first_fetch_started.is_set():
                    cls.first_fetch_started.set()
                    await asyncio.to_thread(cls.gate.wait, 5)
                return await super().frame(camera_id, seq)
            finally:
                cls.inflight[camera_id] -= 1

    # No periodic sync reads: only sync_set events trigger them here.
    poller = make_poller(hub.url, client_factory=GatedFrames, cameras_refresh_s=0.1, sync_refresh_s=10)
    assert poller.wait_for(connected, 5)
    poller.synced_images()
    base = time.time_ns()
    post_synced_pair(hub.url, camera_jpegs, 0, base)
    assert poller.wait_for(lambda p: [c.online for c in p.cameras()] == [True, True], 5)
    for seq in (1, 2):  # the hub's live synchroniser emits a sync_set event once seq 2 closes set 1
        post_synced_pair(hub.url, camera_jpegs, seq, base)
    assert GatedFrames.first_fetch_started.wait(5)
    for seq in range(3, 30):  # 27 more sets while the first set's fetch is held
        post_synced_pair(hub.url, camera_jpegs, seq, base)
    GatedFrames.gate.set()

    assert poller.wait_for(synced_seq(28), 5)
    assert GatedFrames.max_inflight == 1
    # The held set, then the newest; events that arrived meanwhile cost at most one more run.
    assert GatedFrames.fetches <= 3 * 2


def test_hub_client_fetches_a_frame_by_seq(hub, camera_jpegs):
    jpegs = camera_jpegs["front"]
    for seq in range(3):
        post_frame(hub.url, "front", seq, jpegs[seq], source_frame=100 + seq)

    async def fetch(seq):
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            return await HubClient(session, hub.url).frame("front", seq)

    frame = asyncio.run(fetch(1))
    assert (frame.camera_id, frame.seq, frame.source_frame, frame.jpeg) == ("front", 1, 101, jpegs[1])
    assert asyncio.run(fetch(99)) is None  # not (or no longer) in the ring


def test_frames_are_downloaded_only_while_someone_reads_them(hub, camera_jpegs, make_poller):
    poller = make_poller(hub.url)
    assert poller.wait_for(connected, 5)
    base = time.time_ns()
    for seq in range(3):
        post_synced_pair(hub.url, camera_jpegs, seq, base)
    # The poller follows the cameras and the sets, but no page read a frame: it downloads none.
    assert poller.wait_for(lambda p: p.sync_set() is not None and len(p.cameras()) == 2, 5)
    assert poller.frame_fetches == {}
    # A reader asks for one camera: that camera's frames are fetched, the other's still not.
    assert poller.wait_for(newest_seq("front", 2), 5)
    assert set(poller.frame_fetches) == {"front"}
