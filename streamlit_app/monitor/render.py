"""Pure helpers of the Monitor page and the alert banner: table rows and texts from a
``MonitorSnapshot``. No Streamlit, no I/O, so they are unit-tested alone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from formsync.wire.frames import CameraOut, QualityTarget
from formsync.wire.monitoring import ActiveAlertOut, AlertEventOut, AlertsOut, HeartbeatOut
from streamlit_app.monitor.models import MonitorSnapshot
from streamlit_app.render import clock

_UNITS = ("B", "kB", "MB", "GB", "TB")


def format_bytes(n: float | None) -> str | None:
    """``"1.5 GB"`` (decimal units, as disks and NICs are sold); None stays None."""
    if n is None:
        return None
    value = float(n)
    for unit in _UNITS:
        if abs(value) < 1000 or unit == _UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def format_rate(bytes_per_s: float | None) -> str | None:
    text = format_bytes(bytes_per_s)
    return None if text is None else f"{text}/s"


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def host_rows(snap: MonitorSnapshot, local_role: str = "dashboard") -> list[dict[str, Any]]:
    """One row per machine: the newest heartbeat of each host (lost processes only name their
    host's roles), plus this dashboard's machine from its own sample."""
    hosts: dict[str, dict[str, Any]] = {}
    roles: dict[str, set[str]] = {}
    for p in sorted(snap.processes, key=lambda p: p.received_time_ns):
        name = p.host.hostname
        roles.setdefault(name, set()).add(p.role)
        if not p.lost:
            hosts[name] = p.host.model_dump()
    if snap.local_host is not None:
        name = snap.local_host["hostname"]
        roles.setdefault(name, set()).add(local_role)
        hosts.setdefault(name, snap.local_host)
    rows = []
    for name in sorted(roles):
        h = hosts.get(name)
        if h is None:  # every process of this machine is lost: nothing current to show
            rows.append({"host": name, "roles": ", ".join(sorted(roles[name])), "state": "lost"})
            continue
        state = "up"
        if h.get("unavailable"):
            state += f" (n/a: {', '.join(h['unavailable'])})"
        used, total = h.get("memory_used_bytes"), h.get("memory_total_bytes")
        rows.append({
            "host": name, "roles": ", ".join(sorted(roles[name])), "state": state,
            "CPU %": _round(h.get("cpu_percent")), "memory %": _round(h.get("memory_percent")),
            "memory": None if used is None or not total else f"{format_bytes(used)} of {format_bytes(total)}",
            "disk free %": _round(h.get("disk_free_percent")),
            "disk free": format_bytes(h.get("disk_free_bytes")),
            "net in": format_rate(h.get("net_recv_bytes_per_s")),
            "net out": format_rate(h.get("net_sent_bytes_per_s")),
            "load 1m": _round(h.get("load_1m"), 2), "temp °C": _round(h.get("temperature_c")),
        })
    return rows


def _process_state(p: HeartbeatOut) -> str:
    if p.lost:
        return "lost"
    if p.worker is not None and not p.worker.following:
        return "alive, not following the hub"
    return "alive"


def _process_detail(p: HeartbeatOut) -> str | None:
    """What a worker says of its link to the hub: why it does not follow it, sets still unsent,
    malformed events skipped. None for other roles."""
    w = p.worker
    if w is None:
        return None
    parts = ["following the hub" if w.following else f"not following the hub: {w.follow_error or 'unknown'}"]
    if w.sets_pending:
        parts.append(f"{w.sets_pending} set update(s) not yet acknowledged")
    if w.bad_events_total:
        parts.append(f"{w.bad_events_total} malformed event(s) skipped")
    return "; ".join(parts)


def process_rows(snap: MonitorSnapshot, local_process_id: str) -> list[dict[str, Any]]:
    """One row per process that sent heartbeats, plus this Streamlit process. A worker that is
    alive but cannot follow the hub (it analyses nothing new) says so in ``state`` and why in
    ``detail``."""
    rows = [
        {"process": p.process_id, "role": p.role, "host": p.host.hostname, "pid": p.process.pid,
         "state": _process_state(p), "CPU %": _round(p.process.cpu_percent),
         "RSS": format_bytes(p.process.rss_bytes), "threads": p.process.threads,
         "last heartbeat": f"{p.age_s:.1f} s ago", "detail": _process_detail(p)}
        for p in sorted(snap.processes, key=lambda p: (p.role, p.process_id))
    ]
    if snap.local_process is not None:
        lp = snap.local_process
        rows.append({"process": local_process_id, "role": "dashboard",
                     "host": (snap.local_host or {}).get("hostname"), "pid": lp["pid"], "state": "alive",
                     "CPU %": _round(lp.get("cpu_percent")), "RSS": format_bytes(lp.get("rss_bytes")),
                     "threads": lp.get("threads"), "last heartbeat": "this process", "detail": None})
    return rows


def _camera_state(cam: CameraOut | None, hub_connected: bool) -> str:
    if not hub_connected:
        return "unknown"
    if cam is None:
        return "no frames"
    return "online" if cam.online else "stale"


def pipeline_rows(snap: MonitorSnapshot) -> list[dict[str, Any]]:
    """One row per camera, from capture to analysis: the client's capture and sent rates and
    drops, the hub's rate, frame age and state, the workers' analysis rate (summed over
    workers), the hub the camera streams to (its client's last upload) and the worker analysing
    it (its lease), and its quality tier and why. Lost processes' figures are left out (they
    describe the past)."""
    hub = {c.camera_id: c for c in snap.cameras}
    clients: dict[str, Any] = {}
    analysis: dict[str, float] = {}
    for p in snap.processes:
        if p.lost:
            continue
        for link in p.cameras:
            clients[link.camera_id] = link
        for a in p.analysis:
            analysis[a.camera_id] = analysis.get(a.camera_id, 0.0) + a.analysis_fps
    workers = {lease.camera_id: lease.worker_id for lease in snap.leases.leases} if snap.leases else {}
    rows = []
    for cid in sorted(set(hub) | set(clients) | set(analysis)):
        cam, link = hub.get(cid), clients.get(cid)
        offset = cam.clock_offset_ms if cam is not None and cam.clock_offset_ms is not None else (
            link.clock_offset_ms if link is not None else None)
        rows.append({
            "camera": cid, "state": _camera_state(cam, snap.connection.connected),
            "capture fps": _round(link.capture_fps) if link else None,
            "sent fps": _round(link.sent_fps) if link else None,
            "hub fps": _round(cam.fps) if cam else None,
            "analysis fps": _round(analysis[cid]) if cid in analysis else None,
            "drops": link.dropped_total if link else None,
            "frame age ms": _round(cam.age_ms, 0) if cam else None,
            "clock offset ms": _round(offset, 2),
            "hub": _short_url(link.hub_url) if link and link.hub_url else None,
            "worker": workers.get(cid),
            # What the client obeys; the hub's own answer for a client that reports none.
            **quality_cells(link.quality if link and link.quality else cam.quality if cam else None),
        })
    return rows


def quality_cells(target: QualityTarget | None) -> dict[str, str | None]:
    """The ``tier`` and ``why`` cells of a camera the hub gives a quality target, e.g.
    ``1: 21 fps, 640 px, q75`` and ``analysis behind: 31 % of frames skipped``."""
    if target is None:
        return {"tier": None, "why": None}
    return {"tier": f"{target.tier}: {target.fps:g} fps, {target.width} px, q{target.jpeg_quality}",
            "why": target.reason}


def _short_url(url: str) -> str:
    """``http://hub-2.local:8000`` -> ``hub-2.local:8000``."""
    return url.split("://", 1)[-1].rstrip("/")


def active_alert_rows(active: Sequence[ActiveAlertOut], tz: tzinfo | None = None) -> list[dict[str, Any]]:
    return [{"level": a.level, "since": clock(a.since_ns, tz), "rule": a.rule, "subject": a.subject,
             "message": a.message} for a in active]


def alert_log_rows(log: Sequence[AlertEventOut], tz: tzinfo | None = None) -> list[dict[str, Any]]:
    return [{"time": clock(e.time_ns, tz), "state": e.state, "level": e.level, "rule": e.rule,
             "subject": e.subject, "message": e.message} for e in log]


def banner_lines(alerts: AlertsOut | None, most: int = 3) -> tuple[str | None, str | None]:
    """``(critical, warning)`` banner texts, None for a level with no active alert: the count, then
    the ``most`` oldest messages and how many more."""
    if alerts is None:
        return None, None
    out = []
    for level in ("critical", "warning"):
        items = [a for a in alerts.active if a.level == level]
        if not items:
            out.append(None)
            continue
        shown = "; ".join(a.message for a in items[:most])
        more = f" (+{len(items) - most} more)" if len(items) > most else ""
        out.append(f"**{len(items)} {level}:** {shown}{more}")
    return out[0], out[1]
