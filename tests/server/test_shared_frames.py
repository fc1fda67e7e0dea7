"""Hubs sharing one Redis: either hub serves every camera's frames, sync sets and events; Redis down
is a 503 with Retry-After and the hub recovers by itself; a subscriber connection Redis drops for
reading too slowly is reopened and resynced."""

import asyncio
import json
import time

import httpx
import pytest
import redis
from websockets.sync.client import connect

from tests.conftest import synthetic_jpeg
from tests.redis_server import RedisServer
from tests.support import RunningHub, wait_until


def post(hub, cam, seq, t_ns, body=None):
    return httpx.post(f"{hub.url}/api/v1/cameras/{cam}/frames", content=body or synthetic_jpeg(seq), timeout=5,
                      headers={"X-Capture-Time-Ns": str(t_ns), "X-Frame-Seq": str(seq)})


def ws_url(hub, path):
    return hub.url.replace("http", "ws") + path


@pytest.fixture
def two_hubs(redis_url):
    with RunningHub(redis_url=redis_url, upload_rate_factor=0) as a, \
            RunningHub(redis_url=redis_url, upload_rate_factor=0) as b:
        yield a, b


def test_either_hub_serves_every_cameras_frames_and_sync_sets(two_hubs):
    a, b = two_hubs
    t0 = time.time_ns()
    for seq in range(3):
        assert post(a, "side", seq, t0 + seq * 33_000_000, synthetic_jpeg(seq)).status_code == 201
        assert post(b, "front", seq, t0 + seq * 33_000_000 + 2_000_000, synthetic_jpeg(100 + seq)).status_code == 201
    # The set of front's newest frame is complete once side has a later one.
    assert post(a, "side", 3, t0 + 99_000_000).status_code == 201
    for hub in (a, b):
        cams = httpx.get(hub.url + "/api/v1/cameras").json()["cameras"]
        assert [(c["camera_id"], c["seq"], c["frames_total"]) for c in cams] == [("front", 2, 3), ("side", 3, 4)]
        assert httpx.get(hub.url + "/api/v1/cameras/side/frame").content == synthetic_jpeg(3)
        by_seq = httpx.get(hub.url + "/api/v1/cameras/front/frames/1")
        assert by_seq.content == synthetic_jpeg(101) and by_seq.headers["x-frame-seq"] == "1"
        found = httpx.get(hub.url + "/api/v1/frames/sync", params={"cameras": "side,front"}).json()
        assert {(f["camera_id"], f["seq"]) for f in found["frames"]} == {("side", 2), ("front", 2)}
        assert found["spread_ms"] == pytest.approx(2.0)
        assert httpx.get(hub.url + "/healthz").json()["cameras"] == 2


def test_events_of_either_hub_reach_every_subscriber_once_without_jpegs(two_hubs):
    a, b = two_hubs
    kinds = "?types=frame,camera_online,sync_set"
    with connect(ws_url(a, "/api/v1/events" + kinds)) as on_a, connect(ws_url(b, "/api/v1/events" + kinds)) as on_b:
        t0 = time.time_ns()
        received = {on_a: [], on_b: []}
        # Subscribed once each socket has seen an event.
        warm = 0
        while not all(received.values()):
            post(a, "side", warm, t0 + warm * 33_000_000)
            for ws, got in received.items():
                try:
                    got.append(ws.recv(0.2))
                except TimeoutError:
                    pass
            warm += 1
        n = 5
        for seq in range(n):
            post(a, "side", warm + seq, t0 + (warm + seq) * 33_000_000)
            post(b, "front", seq, t0 + (warm + seq) * 33_000_000 + 1_000_000)
        for ws, messages in received.items():
            try:
                while True:
                    messages.append(ws.recv(1.0))
            except TimeoutError:
                pass
            assert max(len(m) for m in messages) < 1024  # ids and times, never a JPEG
            events = [json.loads(m) for m in messages]
            frames = [(e["camera_id"], e["seq"]) for e in events if e["type"] == "frame"]
            assert sorted(f for f in frames if f[0] == "front") == [("front", s) for s in range(n)]
            side = [s for c, s in frames if c == "side"]
            assert len(side) == len(set(side)) and set(range(warm, warm + n)) <= set(side)
            online = [e["camera_id"] for e in events if e["type"] == "camera_online"]
            assert sorted(online) == ["front", "side"]
            sets = [tuple(sorted((f["camera_id"], f["seq"]) for f in e["frames"]))
                    for e in events if e["type"] == "sync_set"]
            assert sets and len(sets) == len(set(sets))


def test_redis_down_is_a_503_with_retry_after_and_the_hub_recovers():
    server = RedisServer().start()
    hub = RunningHub(redis_url=server.url, upload_rate_factor=0).start()
    try:
        t0 = time.time_ns()
        assert post(hub, "side", 0, t0).status_code == 201
        server.kill()
        for response in (post(hub, "side", 1, t0 + 1), httpx.get(hub.url + "/api/v1/cameras"),
                         httpx.get(hub.url + "/api/v1/cameras/side/frame"), httpx.get(hub.url + "/healthz"),
                         httpx.get(hub.url + "/api/v1/frames/sync", params={"cameras": "side,front"})):
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == "1"
            assert response.json()["error"]["code"] == "redis_unavailable"
        header = json.dumps({"seq": 1, "capture_time_ns": t0 + 1}).encode()
        with connect(ws_url(hub, "/api/v1/cameras/side/stream")) as ws:
            ws.send(len(header).to_bytes(4, "big") + header + synthetic_jpeg(1))
            ack = json.loads(ws.recv(10))
            assert (ack["ok"], ack["status"], ack["error"]["code"]) == (False, 503, "redis_unavailable")
        server.start()  # same port, empty: persistence is off in the tests
        with connect(ws_url(hub, "/api/v1/events?types=frame")) as events:
            seq = [1]

            def frame_event_arrives():
                seq[0] += 1
                if post(hub, "side", seq[0], t0 + seq[0]).status_code != 201:
                    return False
                # Resynced after reconnecting: the newest frame may come once more, so read them all.
                try:
                    while json.loads(events.recv(0.3))["seq"] != seq[0]:
                        pass
                    return True
                except TimeoutError:
                    return False

            assert wait_until(frame_event_arrives, timeout=10)
        assert httpx.get(hub.url + "/api/v1/cameras/side/frame").headers["x-frame-seq"] == str(seq[0])
    finally:
        hub.stop()
        server.close()


def test_a_subscriber_connection_dropped_for_reading_slowly_is_reopened_and_resynced(redis_url):
    from server.shared_state.connection import connect as connect_redis
    from server.shared_state.events import RedisEventBus

    async def scenario():
        bus = RedisEventBus(queue_size=10_000, client=connect_redis(redis_url), url=redis_url)
        resynced = asyncio.Event()

        async def resync():
            resynced.set()

        bus.resync = resync
        sub = bus.subscribe()
        async with bus.run():
            assert bus.connected.is_set()
            admin = redis.Redis.from_url(redis_url)
            admin.config_set("client-output-buffer-limit", "pubsub 64kb 32kb 1")
            try:
                # Published while this loop is blocked: the hub reads nothing meanwhile.
                padding = json.dumps({"type": "alert", "pad": "x" * 100_000})
                for _ in range(300):
                    admin.publish(bus.channel, padding)
            finally:
                admin.config_set("client-output-buffer-limit", "pubsub 32mb 8mb 60")
                admin.close()
            await asyncio.wait_for(resynced.wait(), 10)
            bus.publish({"type": "alert", "marker": 1})
            while (await asyncio.wait_for(sub.get(), 5)).get("marker") != 1:
                pass
        return bus.reconnects

    assert asyncio.run(scenario()) >= 1
