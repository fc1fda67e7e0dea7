"""The frame store's contract, run against both implementations: embedded and Redis."""

import asyncio

import pytest

from server.store import Frame, InMemoryFrameStore

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(params=["embedded", "redis"])
def make_store(request):
    """``make_store(**ring_settings)`` builds a store of the parametrized kind (Redis: flushed)."""
    def make(**kwargs):
        if request.param == "embedded":
            return InMemoryFrameStore(**kwargs)
        from server.shared_state.connection import connect
        from server.shared_state.frames import RedisFrameStore

        return RedisFrameStore(connect(request.getfixturevalue("redis_url")), **kwargs)

    return make


def frame(cam="a", seq=0, t_ms=0, payload=None, **extra):
    jpeg = payload if payload is not None else f"{cam}:{seq}".encode()
    return Frame(camera_id=cam, seq=seq, capture_time_ns=int(t_ms * 1e6) + 1_700_000_000_000_000_000,
                 hub_receive_time_ns=int(t_ms * 1e6), jpeg=jpeg, width=4, height=3, **extra)


async def test_latest_is_the_newest_put_and_ring_keeps_only_recent_seconds(make_store):
    store = make_store(ring_seconds=1.0)
    for seq in range(100):  # 100 frames at 20 ms -> 2 s of capture time
        await store.put(frame(seq=seq, t_ms=seq * 20))
    assert (await store.latest("a")).seq == 99
    ring = await store.ring("a")
    assert [f.seq for f in ring] == list(range(49, 100))  # within 1000 ms of t=1980 ms
    assert await store.latest("b") is None and await store.ring("b") == ()


async def test_a_frame_comes_back_as_it_was_put(make_store):
    store = make_store()
    sent = frame(seq=7, t_ms=12.345678, payload=b"\xff\xd8\x00|jpeg\xff\xd9", source_frame=3,
                 clock_offset_ns=-1_234_567, clock_uncertainty_ns=890)
    result = await store.put(sent)
    assert result.is_new_camera and result.is_new_stream
    assert await store.latest("a") == sent
    assert await store.frame("a", 7) == sent and await store.ring("a") == (sent,)
    assert await store.frame("a", 8) is None and await store.frame("b", 7) is None


async def test_frame_by_seq_finds_any_frame_of_the_ring(make_store):
    store = make_store()
    for seq in range(10):
        await store.put(frame(seq=seq, t_ms=seq * 33, payload=bytes([seq]) * (seq + 1)))
    found = await store.frame("a", 4)
    assert (found.seq, found.jpeg) == (4, bytes([4]) * 5)


async def test_status_counts_gaps_and_estimates_fps(make_store):
    store = make_store()
    for seq in [0, 1, 2, 5, 6]:  # 3 and 4 missing
        await store.put(frame(seq=seq, t_ms=seq * 40, clock_offset_ns=5_000_000))
    (cam,) = await store.cameras()
    assert (cam.camera_id, cam.seq, cam.frames_total, cam.gaps) == ("a", 6, 5, 2)
    assert cam.fps == pytest.approx(4 / 0.24)
    assert (cam.width, cam.height, cam.clock_offset_ns) == (4, 3, 5_000_000)


async def test_cameras_are_listed_by_id(make_store):
    store = make_store()
    for cam in ["front", "side", "back"]:
        await store.put(frame(cam=cam))
    assert [c.camera_id for c in await store.cameras()] == ["back", "front", "side"]


async def test_seq_restart_is_a_new_stream_not_a_gap(make_store):
    store = make_store()
    for seq in range(5):
        await store.put(frame(seq=seq, t_ms=seq * 33))
    result = await store.put(frame(seq=0, t_ms=500))
    assert result.is_new_stream and not result.is_new_camera
    assert (await store.cameras())[0].gaps == 0
    assert [f.seq for f in await store.ring("a")] == [0]


async def test_a_capture_time_going_back_stays_in_the_ring(make_store):
    store = make_store()
    for seq, t_ms in enumerate([100, 200, 150, 300]):  # within the ring, out of order
        await store.put(frame(seq=seq, t_ms=t_ms))
    assert [f.seq for f in await store.ring("a")] == [0, 1, 2, 3]


async def test_ring_is_bounded_whatever_the_fps(make_store):
    store = make_store(ring_seconds=10, ring_max_frames=8)
    for seq in range(50):
        await store.put(frame(seq=seq, t_ms=seq))
    assert len(await store.ring("a")) == 8


async def test_concurrent_writers_and_readers_never_see_a_torn_frame(make_store):
    store = make_store()
    cams = [f"cam{i}" for i in range(4)]
    done = asyncio.Event()
    problems: list[str] = []
    reads = [0]

    async def writer(cam):
        for seq in range(100):
            # Payload size varies with seq so a mix of two frames would show.
            await store.put(frame(cam, seq, seq, payload=f"{cam}:{seq}:".encode() * (1 + seq % 7)))

    async def reader():
        while not done.is_set():
            for cam in cams:
                f = await store.latest(cam)
                if f is not None:
                    reads[0] += 1
                    expected = f"{cam}:{f.seq}:".encode() * (1 + f.seq % 7)
                    if f.jpeg != expected or f.hub_receive_time_ns != int(f.seq * 1e6):
                        problems.append(f"torn {cam} seq {f.seq}")
                ring = await store.ring(cam)
                if any(b.seq <= a.seq for a, b in zip(ring, ring[1:])):
                    problems.append(f"ring out of order for {cam}")
            await store.cameras()
            await asyncio.sleep(0)

    readers = [asyncio.create_task(reader()) for _ in range(2)]
    await asyncio.gather(*(writer(c) for c in cams))
    done.set()
    await asyncio.gather(*readers)
    assert reads[0] > 0
    assert problems == []
    assert {c: (await store.latest(c)).seq for c in cams} == {c: 99 for c in cams}


async def test_a_redis_store_given_the_events_channel_publishes_each_frame_event_with_its_frame(redis_url):
    import json

    from formsync.wire.events import FrameEvent
    from server.shared_state.connection import connect
    from server.shared_state.frames import RedisFrameStore

    client = connect(redis_url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe("events")
    try:
        quiet = RedisFrameStore(client)
        announcing = RedisFrameStore(client, events_channel="events")
        assert (await quiet.put(frame(cam="q", seq=0))).announced is False
        result = await announcing.put(frame(cam="b", seq=7, t_ms=40, source_frame=3))
        assert result.announced is True
        messages, deadline = [], asyncio.get_running_loop().time() + 1.0
        while asyncio.get_running_loop().time() < deadline:  # None also for the subscribe reply
            if (message := await pubsub.get_message(timeout=0.2)) is not None:
                messages.append(json.loads(message["data"]))
        sent = result.frame
        assert messages == [FrameEvent(camera_id="b", seq=7, capture_time_ns=sent.capture_time_ns,
                                       hub_receive_time_ns=sent.hub_receive_time_ns,
                                       source_frame=3).model_dump(mode="json")]
        assert (await announcing.latest("b")).seq == 7  # stored by the time its event is read
    finally:
        await pubsub.aclose()
        await client.aclose()
