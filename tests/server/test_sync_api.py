"""Hub clock, synchronised sets over HTTP and as events, the spread metric, frames by seq."""

import json
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from tests.conftest import synthetic_jpeg

GOOD = synthetic_jpeg(3)
MS = 1_000_000


def post(http, cam, seq, t_ns, **headers):
    return http.post(f"/api/v1/cameras/{cam}/frames", content=GOOD,
                     headers={"X-Capture-Time-Ns": str(t_ns), "X-Frame-Seq": str(seq), **headers})


def test_time_endpoint_stamps_receive_then_send(hub):
    t0 = time.time_ns()
    body = httpx.get(hub.url + "/api/v1/time").json()
    t3 = time.time_ns()
    assert t0 <= body["receive_time_ns"] <= body["send_time_ns"] <= t3


def test_time_over_the_ingest_websocket(hub):
    with connect(hub.url.replace("http", "ws") + "/api/v1/cameras/c/stream") as ws:
        t0 = time.time_ns()
        ws.send(json.dumps({"type": "time", "t0": t0}))
        reply = json.loads(ws.recv(5))
        assert reply["type"] == "time" and reply["t0"] == t0 and t0 <= reply["t1"] <= reply["t2"]
        ws.send("hello")
        assert json.loads(ws.recv(5))["error"]["code"] == "invalid_message"


def test_sync_set_events_metric_and_frames_by_seq(hub):
    base = time.time_ns()
    with connect(hub.url.replace("http", "ws") + "/api/v1/events?types=sync_set") as ws, \
            httpx.Client(base_url=hub.url) as http:
        for k in range(10):
            t = base + k * 33 * MS
            assert post(http, "a", k, t, **{"X-Clock-Offset-Ns": "-350000000",
                                            "X-Clock-Uncertainty-Ns": "150000"}).status_code == 201
            assert post(http, "b", k, t + 4 * MS).status_code == 201
        events = []
        while len(events) < 8:
            events.append(json.loads(ws.recv(5)))
        for e in events:
            seqs = {f["camera_id"]: f["seq"] for f in e["frames"]}
            assert seqs["a"] == seqs["b"] and e["spread_ms"] == 4.0
        cams = {c["camera_id"]: c for c in http.get("/api/v1/cameras").json()["cameras"]}
        assert cams["a"]["clock_offset_ms"] == -350.0 and cams["a"]["clock_uncertainty_ms"] == 0.15
        assert cams["b"]["clock_offset_ms"] is None
        families = {f.name: f for f in text_string_to_metric_families(http.get("/metrics").text)}
        count = next(s.value for s in families["formsync_sync_spread_seconds"].samples if s.name.endswith("_count"))
        assert count >= 8
        by_seq = http.get("/api/v1/cameras/b/frames/3")
        assert by_seq.status_code == 200 and by_seq.headers["x-frame-seq"] == "3"
        assert by_seq.headers["x-capture-time-ns"] == str(base + 3 * 33 * MS + 4 * MS)
        assert http.get("/api/v1/cameras/b/frames/999").json()["error"]["code"] == "frame_not_found"
