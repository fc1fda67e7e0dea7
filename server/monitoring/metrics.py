"""Prometheus metrics of the hub, on a registry of its own (one per app, so tests don't collide)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector

from server.recent import RecentValues

# Latency-like histograms, seconds: from a few ms on loopback to seconds of a stalled pipeline.
_LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.033, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0)


class HubMetrics:
    """Metric families, named by Prometheus conventions (base units, ``_total`` counters)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.sync_spread = Histogram(
            "formsync_sync_spread_seconds", "Capture-time spread of each synchronised set.",
            buckets=(0.001, 0.002, 0.005, 0.008, 0.0167, 0.025, 0.033, 0.05, 0.1),
            registry=self.registry,
        )
        self.sync_dropped = Counter(
            "formsync_sync_dropped_frames_total", "Frames the live synchroniser dropped, by reason.",
            ["reason"], registry=self.registry,
        )
        # -- ingest, serving, analysis, HTTP (monitoring); live gauges read from the hub's
        # state at scrape time are in metrics_collector.py.
        self.frames_received = Counter(
            "formsync_frames_received_total", "Frames accepted into the store, per camera.", ["camera"],
            registry=self.registry)
        self.frames_rejected = Counter(
            "formsync_frames_rejected_total", "Frame uploads refused, per camera and error code.",
            ["camera", "reason"], registry=self.registry)
        self.ingest_latency = Histogram(
            "formsync_ingest_latency_seconds",
            "Capture (on the hub's clock) to hub receive of each accepted frame: encode, upload, network.",
            ["camera"], buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.frame_age = Histogram(
            "formsync_frame_age_seconds", "Age of the latest frame when a reader fetched it (now - capture).",
            ["camera"], buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.analysis_latency = Histogram(
            "formsync_analysis_latency_seconds", "Capture to analysis result received by the hub.",
            ["camera"], buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.analysis_processing = Histogram(
            "formsync_analysis_processing_seconds", "Worker time spent on one frame (decode and inference).",
            ["camera"], buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.http_requests = Counter(
            "formsync_http_requests_total", "HTTP answers of the hub, by status.", ["status"],
            registry=self.registry)
        self.http_errors = Counter(
            "formsync_http_errors_total", "HTTP answers with status >= 400, by status.", ["status"],
            registry=self.registry)
        # process_cpu_seconds_total, process_resident_memory_bytes, ... of the hub (Linux /proc).
        ProcessCollector(registry=self.registry)
        # The alert rules' latency figure (p95 over the last 10 s, monitoring/alerts.py).
        self.recent_analysis_latency_ms = RecentValues(window_s=10.0)

    def frame_accepted(self, camera_id: str, capture_time_ns: int, hub_receive_time_ns: int) -> None:
        self.frames_received.labels(camera_id).inc()
        self.ingest_latency.labels(camera_id).observe(max(0.0, (hub_receive_time_ns - capture_time_ns) / 1e9))

    def frame_rejected(self, camera_id: str, reason: str) -> None:
        self.frames_rejected.labels(camera_id, reason).inc()

    def frame_served(self, camera_id: str, capture_time_ns: int, now_ns: int) -> None:
        self.frame_age.labels(camera_id).observe(max(0.0, (now_ns - capture_time_ns) / 1e9))

    def analysis_result(self, camera_id: str, latency_ms: float, processing_ms: float, now_ns: int) -> None:
        self.analysis_latency.labels(camera_id).observe(max(0.0, latency_ms / 1e3))
        self.analysis_processing.labels(camera_id).observe(processing_ms / 1e3)
        self.recent_analysis_latency_ms.add(camera_id, latency_ms, now_ns)
