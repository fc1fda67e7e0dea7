"""Prometheus families read from the hub's live state at scrape time (a custom collector, as
prometheus-client's docs recommend for values another component owns): cameras from the frame
store, processes and hosts from the latest heartbeats, the event bus, active alerts.

| family | labels | unit | source |
|---|---|---|---|
| ``formsync_camera_fps`` | camera | frames/s | hub's estimate over the ~1 s ring |
| ``formsync_camera_online`` | camera | 0/1 | a frame within ``stale_after_s`` |
| ``formsync_camera_frame_age_seconds`` | camera | s | now - latest capture time |
| ``formsync_frame_seq_gaps_total`` | camera | frames | frames missing by seq at the hub |
| ``formsync_frames_dropped_total`` | camera | frames | client drops (hub slower than camera), heartbeats |
| ``formsync_client_capture_fps`` / ``_sent_fps`` | camera | frames/s | client heartbeats |
| ``formsync_client_upload_latency_seconds`` | camera, quantile | s | client heartbeats (p50, p95) |
| ``formsync_client_clock_offset_seconds`` | camera | s | hub minus camera clock, client heartbeats |
| ``formsync_analysis_fps`` | camera, process | frames/s | worker heartbeats |
| ``formsync_process_up`` | process, role | 0/1 | 0 once lost (3 missed heartbeats) |
| ``formsync_heartbeat_age_seconds`` | process, role | s | since its latest heartbeat |
| ``formsync_process_cpu_usage_ratio`` | process, role | 0-1 | share of its machine |
| ``formsync_process_resident_memory_bytes`` | process, role | bytes | RSS |
| ``formsync_host_cpu_usage_ratio``, ``_memory_usage_ratio``, ``_disk_free_ratio`` | host | 0-1 | heartbeats |
| ``formsync_host_load1`` | host | tasks | 1-minute load average |
| ``formsync_host_temperature_celsius`` | host | °C | hottest sensor, where offered |
| ``formsync_event_subscribers`` | | | WebSocket event subscribers |
| ``formsync_event_queue_length`` | | events | waiting in all subscriber queues |
| ``formsync_events_published_total`` | | events | |
| ``formsync_events_dropped_total`` | | events | dropped for slow subscribers (their oldest) |
| ``formsync_alerts_firing`` | level | alerts | active alerts |
| ``formsync_live_viewers`` | | sockets | open live-view sockets (browsers) |
| ``formsync_live_messages_sent_total`` | | messages | frames and sets sent to live viewers |
| ``formsync_live_dropped_total`` | | items | replaced unsent in a viewer's size-1 slots (slow viewer) |
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

log = logging.getLogger("formsync.hub.metrics")


class HubStateCollector:
    """Reads ``app.state`` (store, ingest, bus, heartbeats, monitor) on each scrape; parts not
    built yet (before the lifespan starts) are skipped. Never raises into the scrape."""

    def __init__(self, state) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        now_ns = time.time_ns()
        for part in (self._cameras, self._heartbeats, self._bus, self._live, self._alerts):
            try:
                yield from part(now_ns)
            except Exception:  # one broken part must not cost the whole scrape
                log.exception("metrics: %s failed", part.__name__)

    def _cameras(self, now_ns: int) -> Iterator[Metric]:
        ingest = getattr(self.state, "ingest", None)
        if ingest is None:
            return
        fps = GaugeMetricFamily("formsync_camera_fps", "Capture rate the hub estimates, frames/s.",
                                labels=["camera"])
        online = GaugeMetricFamily("formsync_camera_online", "1 while frames arrive, 0 once stale.",
                                   labels=["camera"])
        age = GaugeMetricFamily("formsync_camera_frame_age_seconds", "Now minus the latest capture time.",
                                labels=["camera"])
        gaps = CounterMetricFamily("formsync_frame_seq_gaps", "Frames missing by sequence number at the hub.",
                                   labels=["camera"])
        for c in ingest.cameras_snapshot:  # as of the last stale check (0.2 s): no store read here
            fps.add_metric([c.camera_id], c.fps)
            online.add_metric([c.camera_id], float(ingest.is_online(c.last_receive_time_ns, now_ns)))
            age.add_metric([c.camera_id], (now_ns - c.last_capture_time_ns) / 1e9)
            gaps.add_metric([c.camera_id], c.gaps)
        yield from (fps, online, age, gaps)

    def _heartbeats(self, now_ns: int) -> Iterator[Metric]:
        registry = getattr(self.state, "heartbeats", None)
        if registry is None:
            return
        views = registry.snapshot(now_ns)
        dropped = CounterMetricFamily(
            "formsync_frames_dropped", "Frames a client dropped because the hub was slower than its camera "
            "(client heartbeats).", labels=["camera"])
        capture = GaugeMetricFamily("formsync_client_capture_fps", "Frames grabbed per second.",
                                    labels=["camera"])
        sent = GaugeMetricFamily("formsync_client_sent_fps", "Frames delivered per second.",
                                 labels=["camera"])
        upload = GaugeMetricFamily("formsync_client_upload_latency_seconds",
                                   "Upload round trip, last 300 uploads.", labels=["camera", "quantile"])
        offset = GaugeMetricFamily("formsync_client_clock_offset_seconds", "Hub minus camera clock.",
                                   labels=["camera"])
        analysis = GaugeMetricFamily("formsync_analysis_fps", "Frames analysed per second.",
                                     labels=["camera", "process"])
        up = GaugeMetricFamily("formsync_process_up", "1 while heartbeats arrive, 0 once lost.",
                               labels=["process", "role"])
        hb_age = GaugeMetricFamily("formsync_heartbeat_age_seconds", "Since the latest heartbeat.",
                                   labels=["process", "role"])
        p_cpu = GaugeMetricFamily("formsync_process_cpu_usage_ratio", "CPU share of its machine, 0-1.",
                                  labels=["process", "role"])
        p_rss = GaugeMetricFamily("formsync_process_resident_memory_bytes", "Resident set size.",
                                  labels=["process", "role"])
        hosts: dict[str, dict] = {}
        for v in views:
            key = [v["process_id"], v["role"]]
            up.add_metric(key, 0.0 if v["lost"] else 1.0)
            hb_age.add_metric(key, v["age_s"])
            proc = v["process"]
            if proc.get("cpu_percent") is not None:
                p_cpu.add_metric(key, proc["cpu_percent"] / 100)
            if proc.get("rss_bytes") is not None:
                p_rss.add_metric(key, proc["rss_bytes"])
            host = v["host"]
            newest = hosts.get(host["hostname"])
            if not v["lost"] and (newest is None or v["received_time_ns"] > newest["received_time_ns"]):
                hosts[host["hostname"]] = {**host, "received_time_ns": v["received_time_ns"]}
            if v["lost"]:
                continue  # a lost process's rates describe the past: leave them out
            for cam in v.get("cameras", ()):
                cid = cam["camera_id"]
                dropped.add_metric([cid], cam["dropped_total"])
                capture.add_metric([cid], cam["capture_fps"])
                sent.add_metric([cid], cam["sent_fps"])
                for q, field in (("0.5", "upload_latency_p50_ms"), ("0.95", "upload_latency_p95_ms")):
                    if cam.get(field) is not None:
                        upload.add_metric([cid, q], cam[field] / 1e3)
                if cam.get("clock_offset_ms") is not None:
                    offset.add_metric([cid], cam["clock_offset_ms"] / 1e3)
            for a in v.get("analysis", ()):
                analysis.add_metric([a["camera_id"], v["process_id"]], a["analysis_fps"])
        yield from (dropped, capture, sent, upload, offset, analysis, up, hb_age, p_cpu, p_rss)
        yield from self._hosts(hosts)

    @staticmethod
    def _hosts(hosts: dict[str, dict]) -> Iterator[Metric]:
        specs = (
            ("formsync_host_cpu_usage_ratio", "CPU busy share of all cores, 0-1.", "cpu_percent", 0.01),
            ("formsync_host_memory_usage_ratio", "Memory in use, 0-1.", "memory_percent", 0.01),
            ("formsync_host_disk_free_ratio", "Free disk space, 0-1.", "disk_free_percent", 0.01),
            ("formsync_host_load1", "1-minute load average.", "load_1m", 1.0),
            ("formsync_host_temperature_celsius", "Hottest temperature sensor, °C.", "temperature_c", 1.0),
        )
        for name, doc, field, scale in specs:
            family = GaugeMetricFamily(name, doc, labels=["host"])
            for hostname, host in sorted(hosts.items()):
                if host.get(field) is not None:
                    family.add_metric([hostname], host[field] * scale)
            yield family

    def _bus(self, _now_ns: int) -> Iterator[Metric]:
        bus = getattr(self.state, "bus", None)
        if bus is None:
            return
        yield GaugeMetricFamily("formsync_event_subscribers", "WebSocket event subscribers.",
                                value=bus.subscribers)
        yield GaugeMetricFamily("formsync_event_queue_length", "Events waiting in all subscriber queues.",
                                value=bus.backlog)
        yield CounterMetricFamily("formsync_events_published", "Events published.", value=bus.published)
        yield CounterMetricFamily("formsync_events_dropped", "Events dropped for subscribers too slow to take them.",
                                  value=bus.dropped)

    def _live(self, _now_ns: int) -> Iterator[Metric]:
        fanout = getattr(self.state, "live", None)
        if fanout is None:
            return
        sent, dropped = fanout.totals()
        yield GaugeMetricFamily("formsync_live_viewers", "Open live-view sockets.", value=len(fanout.viewers))
        yield CounterMetricFamily("formsync_live_messages_sent", "Frames and sets sent to live viewers.",
                                  value=sent)
        yield CounterMetricFamily("formsync_live_dropped", "Items replaced unsent in live viewers' slots.",
                                  value=dropped)

    def _alerts(self, _now_ns: int) -> Iterator[Metric]:
        monitor = getattr(self.state, "monitor", None)
        if monitor is None:
            return
        family = GaugeMetricFamily("formsync_alerts_firing", "Active alerts, by level.", labels=["level"])
        active = monitor.active()
        for level in ("warning", "critical"):
            family.add_metric([level], sum(a.level == level for a in active))
        yield family
