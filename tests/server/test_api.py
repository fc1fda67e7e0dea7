"""The hub's HTTP and WebSocket API against a real uvicorn server on loopback."""

import json
import threading
import time

import httpx
import pytest
from websockets.sync.client import connect

from tests.conftest import synthetic_jpeg
from tests.support import RunningHub


def post(client, cam, body, seq=0, t_ns=None, extra=None):
    headers = {"X-Capture-Time-Ns": str(t_ns if t_ns is not None else time.time_ns()), "X-Frame-Seq": str(seq)}
    headers.update(extra or {})
    return client.post(f"/api/v1/cameras/{cam}/frames", content=body, headers=headers)


@pytest.fixture(params=["embedded", "redis"])
def small_hub(request):
    """A hub with its state embedded, or in the session's Redis (the same tests hold for both)."""
    shared = {"redis_url": request.getfixturevalue("redis_url")} if request.param == "redis" else {}
    # No upload rate limit: some tests here post hundreds of frames as fast as they can
    # (the limit itself: tests/reliability/test_limits.py).
    # Adaptive quality on: upload answers carry targets (these raw uploads do not obey them).
    with RunningHub(max_frame_bytes=4096, stale_after_s=0.3, upload_rate_factor=0, quality_adaptive=True,
                    **shared) as running:
        yield running


@pytest.fixture
def client(small_hub):
    with httpx.Client(base_url=small_hub.url, timeout=5) as c:
        yield c


def test_frame_round_trip_keeps_metadata(client):
    jpeg = synthetic_jpeg(7)
    r = post(client, "side", jpeg, seq=3, t_ns=1_700_000_000_123_456_789, extra={"X-Source-Frame": "42"})
    assert r.status_code == 201
    assert r.json()["width"] == 64 and r.json()["source_frame"] == 42
    got = client.get("/api/v1/cameras/side/frame")
    assert got.status_code == 200 and got.content == jpeg
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-frame-seq"] == "3"
    assert got.headers["x-capture-time-ns"] == "1700000000123456789"
    assert got.headers["x-source-frame"] == "42"
    assert (got.headers["x-frame-width"], got.headers["x-frame-height"]) == ("64", "48")
    assert "x-request-id" in got.headers


GOOD = synthetic_jpeg(1)


@pytest.mark.parametrize(
    "cam, body, headers, status, code",
    [
        ("cam", b"", {}, 422, "empty_frame"),
        ("cam", b"GIF89a" + b"\0" * 40, {}, 415, "unsupported_media_type"),
        ("cam", b"\xff\xd8\xff\xe0" + b"\x13" * 60, {}, 422, "invalid_jpeg"),
        ("cam", b"\xff\xd8\xff" + b"\0" * 5000, {}, 413, "frame_too_large"),
        ("bad%20id", GOOD, {}, 422, "invalid_camera_id"),
        ("x" * 65, GOOD, {}, 422, "invalid_camera_id"),
        ("cam", GOOD, {"X-Frame-Seq": "minus-one"}, 422, "validation_error"),
        ("cam", GOOD, {"X-Frame-Seq": "-1"}, 422, "validation_error"),
        ("cam", GOOD, {"X-Capture-Time-Ns": "soon"}, 422, "validation_error"),
        ("cam", GOOD, {"X-Source-Frame": "1.5"}, 422, "validation_error"),
    ],
)
def test_bad_input_is_named_and_leaves_the_stored_frame_alone(client, cam, body, headers, status, code):
    stored = post(client, "cam", GOOD, seq=1, t_ns=111)
    assert stored.status_code == 201
    r = post(client, cam, body, seq=2, t_ns=222, extra=headers)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code and error["message"] and error["request_id"] == r.headers["x-request-id"]
    latest = client.get("/api/v1/cameras/cam/frame")
    assert latest.content == GOOD and latest.headers["x-frame-seq"] == "1"
    assert latest.headers["x-capture-time-ns"] == "111"


def test_missing_headers_are_named(client):
    r = client.post("/api/v1/cameras/cam/frames", content=GOOD)
    assert r.status_code == 422
    assert "X-Capture-Time-Ns" in r.json()["error"]["message"]
    assert "X-Frame-Seq" in r.json()["error"]["message"]


def test_unknown_camera_and_route_are_404_json(client):
    r = client.get("/api/v1/cameras/nobody/frame")
    assert r.status_code == 404 and r.json()["error"]["code"] == "camera_not_found"
    assert client.get("/api/v1/nope").json()["error"]["code"] == "not_found"


def test_camera_list_and_staleness(client):
    for seq in range(3):
        assert post(client, "front", GOOD, seq=seq, t_ns=time.time_ns()).status_code == 201
    (cam,) = client.get("/api/v1/cameras").json()["cameras"]
    assert cam["camera_id"] == "front" and cam["online"] is True and cam["frames_total"] == 3
    assert 0 <= cam["age_ms"] < 5000 and (cam["width"], cam["height"]) == (64, 48)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and client.get("/api/v1/cameras").json()["cameras"][0]["online"]:
        threading.Event().wait(0.05)
    assert client.get("/api/v1/cameras").json()["cameras"][0]["online"] is False


def test_sync_set_picks_closest_frames(client):
    for seq, t_ms in enumerate([0, 33, 66, 100]):
        post(client, "a", GOOD, seq=seq, t_ns=10**12 + t_ms * 10**6)
    for seq, t_ms in enumerate([10, 40, 71]):
        post(client, "b", GOOD, seq=seq, t_ns=10**12 + t_ms * 10**6)
    body = client.get("/api/v1/frames/sync", params={"cameras": "a,b"}).json()
    # a's 100 ms frame waits for a later b frame; the newest complete set is (66, 71).
    assert [(f["camera_id"], f["seq"]) for f in body["frames"]] == [("a", 2), ("b", 2)]
    assert body["spread_ms"] == pytest.approx(5.0) and body["max_spread_ms"] == 20.0
    post(client, "far", GOOD, seq=0, t_ns=10**12 + 500 * 10**6)
    none = client.get("/api/v1/frames/sync", params={"cameras": "a,far"})
    assert none.status_code == 404 and none.json()["error"]["code"] == "no_sync_set"
    assert client.get("/api/v1/frames/sync", params={"cameras": "a"}).status_code == 422
    assert client.get("/api/v1/frames/sync", params={"cameras": "a,zzz"}).status_code == 404
    bad = client.get("/api/v1/frames/sync", params={"cameras": "a,b b"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_camera_list"


def test_websocket_ingest_acks_and_survives_a_bad_frame(small_hub, client):
    url = small_hub.url.replace("http", "ws") + "/api/v1/cameras/wscam/stream"

    def message(seq, jpeg):
        header = json.dumps({"seq": seq, "capture_time_ns": 5_000 + seq, "source_frame": seq}).encode()
        return len(header).to_bytes(4, "big") + header + jpeg

    with connect(url) as ws:
        ws.send(message(0, GOOD))
        # A camera that declares no rate is taken for FORMSYNC_HUB_DEFAULT_CAMERA_FPS (30), at the best tier.
        assert json.loads(ws.recv(5)) == {"ok": True, "seq": 0,
                                          "hub_receive_time_ns": pytest.approx(time.time_ns(), abs=5e9),
                                          "target": {"tier": 0, "fps": 30.0, "width": 1920, "jpeg_quality": 80,
                                                     "reason": "camera rate",
                                                     "since_ns": pytest.approx(time.time_ns(), abs=5e9)}}
        ws.send(message(1, b"not a jpeg"))
        bad = json.loads(ws.recv(5))
        assert bad["ok"] is False and bad["error"]["code"] == "unsupported_media_type"
        ws.send(b"\x00\x00")
        assert json.loads(ws.recv(5))["error"]["code"] == "invalid_message"
        ws.send(message(2, GOOD))
        assert json.loads(ws.recv(5))["ok"] is True
    latest = client.get("/api/v1/cameras/wscam/frame")
    assert latest.headers["x-frame-seq"] == "2" and latest.headers["x-source-frame"] == "2"


def test_two_event_subscribers_one_slow(small_hub, client):
    events_url = small_hub.url.replace("http", "ws") + "/api/v1/events"
    with connect(events_url) as slow, connect(events_url) as fast:
        # Both subscriptions exist once the hub has sent something to the fast one.
        post(client, "ev", GOOD, seq=0)
        first = json.loads(fast.recv(5))
        assert first["type"] in ("camera_online", "frame")
        n = 300
        for seq in range(1, n + 1):
            assert post(client, "ev", GOOD, seq=seq).status_code == 201
        seen = []
        while not seen or seen[-1] < n:
            event = json.loads(fast.recv(5))
            if event["type"] == "frame":
                seen.append(event["seq"])
        assert seen[-n:] == list(range(1, n + 1))
        # The slow subscriber never read, yet the ingest and the fast one went on; when it
        # finally reads, what it gets ends with the newest event.
        last = None
        try:
            while True:
                event = json.loads(slow.recv(0.5))
                if event["type"] == "frame":
                    last = event
        except TimeoutError:
            pass
        assert last is not None and last["seq"] == n


def test_stale_event_is_sent(small_hub, client):
    with connect(small_hub.url.replace("http", "ws") + "/api/v1/events?types=camera_stale,camera_online") as ws:
        post(client, "gone", GOOD, seq=0)
        assert json.loads(ws.recv(5))["type"] == "camera_online"
        stale = json.loads(ws.recv(5))
        assert stale == {"type": "camera_stale", "camera_id": "gone", "time_ns": stale["time_ns"]}
        post(client, "gone", GOOD, seq=1)
        assert json.loads(ws.recv(5))["type"] == "camera_online"


def test_unknown_event_type_is_refused(small_hub):
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    with pytest.raises((InvalidStatus, ConnectionClosed)):
        with connect(small_hub.url.replace("http", "ws") + "/api/v1/events?types=bogus") as ws:
            ws.recv(2)


def test_health_and_openapi(client):
    assert client.get("/healthz").json() == {"status": "ok", "cameras": 0}
    schema = client.get("/openapi.json").json()
    assert "/api/v1/cameras/{camera_id}/frames" in schema["paths"]
