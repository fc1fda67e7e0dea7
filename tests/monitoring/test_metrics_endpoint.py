"""``/metrics`` after real frames flowed from real camera clients, parsed with prometheus-client's
own parser: family names, types, units and labels."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from clients.config import CameraConfig, ClientConfig
from clients.heartbeat import start_heartbeat
from clients.runner import start_workers, stop_workers
from tests.support import squat_clip, wait_until

SIDE = squat_clip("side_bodyweight_intellifit1.mp4")
FRONT = squat_clip("front_barbell_gymvision.mp4")

pytestmark = pytest.mark.skipif(not SIDE.exists(), reason=f"shared footage not found at {SIDE.parent}")


def scrape(hub_url: str) -> dict:
    r = httpx.get(hub_url + "/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {f.name: f for f in text_string_to_metric_families(r.text)}


def samples(family, name: str | None = None) -> dict[tuple, float]:
    """``{labels as sorted tuple: value}`` of the family's samples named ``name`` (default: its own)."""
    name = name or family.name + ("_total" if family.type == "counter" else "")
    return {tuple(sorted(s.labels.items())): s.value for s in family.samples if s.name == name}


def analysis_body(seq: int, capture_time_ns: int) -> dict:
    return {"seq": seq, "capture_time_ns": capture_time_ns, "processing_ms": 42.0, "pose_found": False,
            "rep": {"count": 0, "phase": "top"}, "worker_id": "test"}


def test_metrics_after_real_frames_flowed(hub):
    config = ClientConfig(hub_url=hub.url, status_interval_s=60, heartbeat_interval_s=0.5, cameras=(
        CameraConfig(camera_id="side", source=str(SIDE), max_width=320),
        CameraConfig(camera_id="front", source=str(FRONT), max_width=320)))
    workers = start_workers(config)
    beat = start_heartbeat(config, workers)
    try:
        assert wait_until(lambda: all((f := hub.store.latest(c)) and f.seq >= 20 for c in ("side", "front")),
                          20)
        latest = httpx.get(hub.url + "/api/v1/cameras/front/frame")  # a reader: frame age
        assert latest.status_code == 200
        r = httpx.post(hub.url + "/api/v1/cameras/front/analysis",
                       json=analysis_body(int(latest.headers["x-frame-seq"]),
                                          int(latest.headers["x-capture-time-ns"])))
        assert r.status_code == 201, r.text
        bad = httpx.post(hub.url + "/api/v1/cameras/side/frames", content=b"not a jpeg",
                         headers={"Content-Type": "image/jpeg", "X-Frame-Seq": "0", "X-Capture-Time-Ns": "1"})
        assert bad.status_code in (415, 422)
        def client_beats() -> bool:
            listed = httpx.get(hub.url + "/api/v1/heartbeats").json()["processes"]
            return any(p["role"] == "client" and p["cameras"] and p["cameras"][0]["sent_fps"] > 0
                       for p in listed)

        assert wait_until(client_beats, 10)
        families = scrape(hub.url)
    finally:
        beat.stop()
        assert stop_workers(workers) == []

    # Every FormSync family follows the naming conventions: base units, _total counters.
    ours = {n: f for n, f in families.items() if n.startswith("formsync_")}
    for name, family in ours.items():
        assert family.type in ("counter", "gauge", "histogram"), name
        if family.type == "histogram":
            assert name.endswith("_seconds"), name
        if family.type == "counter":
            assert all(s.name.startswith(name) for s in family.samples) and samples(family), name
    both = {(("camera", "front"),), (("camera", "side"),)}

    received = samples(ours["formsync_frames_received"])
    assert set(received) == both and all(v >= 20 for v in received.values())
    assert ours["formsync_frames_received"].type == "counter"
    rejected = samples(ours["formsync_frames_rejected"])
    assert set(rejected) == {(("camera", "side"), ("reason", bad.json()["error"]["code"]))}
    assert list(rejected.values()) == [1.0]

    ingest = ours["formsync_ingest_latency_seconds"]
    counts = samples(ingest, "formsync_ingest_latency_seconds_count")
    assert ingest.type == "histogram" and set(counts) == both
    assert counts[(("camera", "side"),)] == received[(("camera", "side"),)]  # one observation per frame
    buckets = samples(ingest, "formsync_ingest_latency_seconds_bucket")
    assert (("camera", "side"), ("le", "+Inf")) in buckets
    assert samples(ours["formsync_frame_age_seconds"], "formsync_frame_age_seconds_count") == \
        {(("camera", "front"),): 1.0}
    assert samples(ours["formsync_analysis_latency_seconds"], "formsync_analysis_latency_seconds_count") == \
        {(("camera", "front"),): 1.0}
    processing = samples(ours["formsync_analysis_processing_seconds"],
                         "formsync_analysis_processing_seconds_sum")
    assert processing == {(("camera", "front"),): pytest.approx(0.042)}

    fps = samples(ours["formsync_camera_fps"])
    assert set(fps) == both and all(20 <= v <= 40 for v in fps.values()), fps  # 30 fps clips
    assert samples(ours["formsync_camera_online"]) == {k: 1.0 for k in both}
    assert set(samples(ours["formsync_camera_frame_age_seconds"])) == both
    assert set(samples(ours["formsync_frame_seq_gaps"])) == both
    assert list(ours["formsync_sync_spread_seconds"].samples)  # the existing synchroniser histogram

    # From the client's heartbeats.
    assert set(samples(ours["formsync_frames_dropped"])) == both
    assert set(samples(ours["formsync_client_sent_fps"])) == both
    assert set(samples(ours["formsync_client_capture_fps"])) == both
    upload = samples(ours["formsync_client_upload_latency_seconds"])
    assert {dict(k)["quantile"] for k in upload} == {"0.5", "0.95"} and all(v >= 0 for v in upload.values())
    up = samples(ours["formsync_process_up"])
    roles = {dict(k)["role"] for k in up}
    assert roles == {"client", "hub"} and set(up.values()) == {1.0}
    for family in ("formsync_host_cpu_usage_ratio", "formsync_host_memory_usage_ratio",
                   "formsync_host_disk_free_ratio"):
        values = samples(ours[family]).values()
        assert values and all(0 <= v <= 1 for v in values), family

    http = samples(ours["formsync_http_requests"])
    assert http[(("status", "201"),)] >= 40 and (("status", "200"),) in http
    assert set(samples(ours["formsync_http_errors"])) == {(("status", str(bad.status_code)),)}
    # The live view's fan-out (server/live/fanout.py) is the hub's own, lasting subscriber; the
    # test's clients have all unsubscribed.
    assert samples(ours["formsync_event_subscribers"]) == {(): 1.0}
    assert samples(ours["formsync_events_published"])[()] >= 40
    # Counts depend on this machine's load (cpu_high); the labels do not.
    assert set(samples(ours["formsync_alerts_firing"])) == {(("level", "critical"),), (("level", "warning"),)}

    # The hub process itself, from prometheus-client's ProcessCollector.
    assert families["process_resident_memory_bytes"].samples[0].value > 0
    assert families["process_cpu_seconds"].type == "counter"
