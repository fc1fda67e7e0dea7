"""The hub's metric samples for the alert rules: ``{metric: {subject: value}}`` with the metrics
and units of ``server.monitoring.alerts.METRICS``."""

from __future__ import annotations

from collections.abc import Iterable

from server.store import CameraStatus

# Roles whose loss is an alert (process_lost): the hub itself cannot miss its own heartbeat, and a
# dashboard closing is no fault.
WATCHED_ROLES = frozenset({"client", "worker"})


def host_samples(views: Iterable[dict]) -> dict[str, dict[str, float]]:
    """CPU, memory and free disk per host, from the newest live heartbeat of each host."""
    newest: dict[str, dict] = {}
    for v in views:
        if v["lost"]:
            continue
        name = v["host"]["hostname"]
        if name not in newest or v["received_time_ns"] > newest[name]["received_time_ns"]:
            newest[name] = v
    out: dict[str, dict[str, float]] = {m: {} for m in ("host_cpu_percent", "host_memory_percent",
                                                         "host_disk_free_percent")}
    for name, v in newest.items():
        host = v["host"]
        for metric, field in (("host_cpu_percent", "cpu_percent"), ("host_memory_percent", "memory_percent"),
                              ("host_disk_free_percent", "disk_free_percent")):
            if host.get(field) is not None:
                out[metric][name] = float(host[field])
    return out


def process_samples(views: Iterable[dict]) -> dict[str, float]:
    """``process_lost`` per client and worker: 1.0 lost, 0.0 alive."""
    return {v["process_id"]: float(v["lost"]) for v in views if v["role"] in WATCHED_ROLES}


def worker_samples(views: Iterable[dict]) -> dict[str, float]:
    """``worker_not_following`` per live worker that reports its link: 1.0 not following, 0.0 following."""
    return {v["process_id"]: float(not v["worker"]["following"]) for v in views
            if v["role"] == "worker" and not v["lost"] and v.get("worker")}


def build_samples(state, now_ns: int, error_percent: float | None,
                  cameras: Iterable[CameraStatus]) -> dict[str, dict[str, float]]:
    """Everything the rules watch, from ``app.state`` (heartbeats, store, ingest, bus, metrics).

    Args:
        state: the app's state, after the lifespan built it.
        now_ns: hub time, ns since the epoch.
        error_percent: the HTTP error rate over its window, or None when too few requests.
        cameras: the frame store's cameras (``FrameStore.cameras()``).
    """
    views = state.heartbeats.snapshot(now_ns)
    samples = host_samples(views)
    samples["process_lost"] = process_samples(views)
    samples["worker_not_following"] = worker_samples(views)
    samples["camera_stale"] = {
        c.camera_id: 0.0 if state.ingest.is_online(c.last_receive_time_ns, now_ns) else 1.0
        for c in cameras
    }
    samples["analysis_latency_ms"] = state.metrics.recent_analysis_latency_ms.quantiles(0.95, now_ns)
    samples["event_queue_length"] = {"hub": float(state.bus.backlog)}
    samples["http_error_percent"] = {} if error_percent is None else {"hub": error_percent}
    return samples
