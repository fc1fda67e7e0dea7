import threading

import pytest

from server.store import Frame, InMemoryFrameStore


def frame(cam="a", seq=0, t_ms=0, payload=None):
    jpeg = payload if payload is not None else f"{cam}:{seq}".encode()
    return Frame(camera_id=cam, seq=seq, capture_time_ns=int(t_ms * 1e6), hub_receive_time_ns=int(t_ms * 1e6),
                 jpeg=jpeg, width=4, height=3)


def test_latest_is_the_newest_put_and_ring_keeps_only_recent_seconds():
    store = InMemoryFrameStore(ring_seconds=1.0)
    for seq in range(100):  # 100 frames at 20 ms -> 2 s of capture time
        store.put(frame(seq=seq, t_ms=seq * 20))
    assert store.latest("a").seq == 99
    ring = store.ring("a")
    assert [f.seq for f in ring] == list(range(49, 100))  # within 1000 ms of t=1980 ms
    assert store.latest("b") is None and store.ring("b") == ()


def test_status_counts_gaps_and_estimates_fps():
    store = InMemoryFrameStore()
    for seq in [0, 1, 2, 5, 6]:  # 3 and 4 missing
        store.put(frame(seq=seq, t_ms=seq * 40))
    (cam,) = store.cameras()
    assert (cam.camera_id, cam.seq, cam.frames_total, cam.gaps) == ("a", 6, 5, 2)
    assert cam.fps == pytest.approx(4 / 0.24)


def test_seq_restart_is_a_new_stream_not_a_gap():
    store = InMemoryFrameStore()
    for seq in range(5):
        store.put(frame(seq=seq, t_ms=seq * 33))
    result = store.put(frame(seq=0, t_ms=500))
    assert result.is_new_stream and not result.is_new_camera
    assert store.cameras()[0].gaps == 0
    assert [f.seq for f in store.ring("a")] == [0]


def test_ring_is_bounded_whatever_the_fps():
    store = InMemoryFrameStore(ring_seconds=10, ring_max_frames=8)
    for seq in range(50):
        store.put(frame(seq=seq, t_ms=seq))
    assert len(store.ring("a")) == 8


def test_many_writers_and_readers_never_see_a_torn_frame():
    store = InMemoryFrameStore()
    cams = [f"cam{i}" for i in range(4)]
    stop = threading.Event()
    problems: list[str] = []
    reads = [0]

    def writer(cam):
        for seq in range(3000):
            # Payload size varies with seq so a mix of two frames would show.
            store.put(frame(cam, seq, seq, payload=f"{cam}:{seq}:".encode() * (1 + seq % 7)))

    def reader():
        while not stop.is_set():
            for cam in cams:
                f = store.latest(cam)
                if f is not None:
                    reads[0] += 1
                    expected = f"{cam}:{f.seq}:".encode() * (1 + f.seq % 7)
                    if f.jpeg != expected or f.capture_time_ns != int(f.seq * 1e6):
                        problems.append(f"torn {cam} seq {f.seq}")
                ring = store.ring(cam)
                if any(b.seq <= a.seq for a, b in zip(ring, ring[1:])):
                    problems.append(f"ring out of order for {cam}")
            store.cameras()

    readers = [threading.Thread(target=reader) for _ in range(4)]
    writers = [threading.Thread(target=writer, args=(c,)) for c in cams]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert reads[0] > 0
    assert problems == []
    assert {c: store.latest(c).seq for c in cams} == {c: 2999 for c in cams}
