"""Prometheus metrics of the hub, on a registry of its own (one per app, so tests don't collide)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


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
