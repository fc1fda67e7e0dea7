import asyncio

from server.events import EventBus


def test_slow_subscriber_keeps_only_newest_and_fast_one_gets_all():
    async def scenario():
        bus = EventBus(queue_size=8)
        fast, slow = bus.subscribe(), bus.subscribe()
        got = []
        for i in range(100):
            bus.publish({"type": "frame", "seq": i})
            got.append((await fast.get())["seq"])
        backlog = [slow.queue.get_nowait()["seq"] for _ in range(slow.queue.qsize())]
        return got, backlog, slow.dropped, fast.dropped

    got, backlog, slow_dropped, fast_dropped = asyncio.run(scenario())
    assert got == list(range(100))
    assert backlog == list(range(92, 100))
    assert (slow_dropped, fast_dropped) == (92, 0)


def test_type_filter_and_unsubscribe():
    async def scenario():
        bus = EventBus()
        stale_only = bus.subscribe(frozenset({"camera_stale"}))
        bus.publish({"type": "frame"})
        bus.publish({"type": "camera_stale", "camera_id": "a"})
        first = stale_only.queue.get_nowait()
        bus.unsubscribe(stale_only)
        bus.publish({"type": "camera_stale", "camera_id": "b"})
        return first, stale_only.queue.qsize(), bus.subscribers

    first, left, subscribers = asyncio.run(scenario())
    assert first["camera_id"] == "a" and left == 0 and subscribers == 0
