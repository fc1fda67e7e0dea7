"""What the Monitor page knows: heartbeats of every process, alerts, and the dashboard's own
machine and process. Tolerant readers of ``GET /api/v1/heartbeats`` and ``GET /api/v1/alerts``
(docs/api.md), immutable so the poller thread hands snapshots to page threads by reference."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from streamlit_app.models import CameraStatus, HubConnection, _HubModel


class HostStats(_HubModel):
    """A machine, as ``formsync/host.py`` samples it. None: unavailable there."""

    hostname: str
    cpu_percent: float | None = Field(None, ge=0, le=100)
    cpu_count: int | None = None
    memory_percent: float | None = Field(None, ge=0, le=100)
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None
    disk_free_percent: float | None = Field(None, ge=0, le=100)
    disk_free_bytes: int | None = None
    net_sent_bytes_per_s: float | None = None
    net_recv_bytes_per_s: float | None = None
    load_1m: float | None = None
    temperature_c: float | None = None
    unavailable: tuple[str, ...] = ()


class ProcessStats(_HubModel):
    pid: int
    name: str = ""
    cpu_percent: float | None = Field(None, ge=0, le=100, description="Share of its whole machine.")
    rss_bytes: int | None = None
    threads: int | None = None
    unavailable: tuple[str, ...] = ()


class CameraLink(_HubModel):
    """A camera as its client reports it (rates over the last heartbeat interval)."""

    camera_id: str
    capture_fps: float = 0.0
    sent_fps: float = 0.0
    dropped_total: int = 0
    rejected_total: int = 0
    failed_total: int = 0
    upload_latency_p50_ms: float | None = None
    upload_latency_p95_ms: float | None = None
    clock_offset_ms: float | None = None
    hub_up: bool | None = None
    alive: bool = True


class AnalysisLink(_HubModel):
    """A camera as an analysis worker reports it."""

    camera_id: str
    analysis_fps: float = 0.0
    analysed_total: int = 0
    skipped_total: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None


class WorkerLink(_HubModel):
    """An analysis worker's link to the hub, as it reports it."""

    following: bool = True
    follow_error: str | None = None
    follower_restarts_total: int = 0
    bad_events_total: int = 0
    sets_pending: int = 0
    sets_sent_total: int = 0


class Heartbeat(_HubModel):
    """The latest heartbeat of one process, with the hub's verdict (``lost``)."""

    process_id: str
    role: str
    interval_s: float
    host: HostStats
    process: ProcessStats
    cameras: tuple[CameraLink, ...] = ()
    analysis: tuple[AnalysisLink, ...] = ()
    worker: WorkerLink | None = None
    received_time_ns: int
    age_s: float
    lost: bool
    lost_since_ns: int | None = None


class ActiveAlert(_HubModel):
    rule: str
    subject: str
    level: Literal["warning", "critical"]
    since_ns: int
    value: float | None = None
    threshold: float | None = None
    message: str


class AlertEvent(_HubModel):
    id: int
    rule: str
    subject: str
    level: Literal["warning", "critical"]
    state: Literal["firing", "cleared"]
    value: float | None = None
    time_ns: int
    since_ns: int
    message: str


class Alerts(_HubModel):
    active: tuple[ActiveAlert, ...] = ()
    log: tuple[AlertEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class MonitorSnapshot:
    """One round of the monitor poller. ``processes``, ``cameras`` and ``alerts`` are the hub's
    answers from its latest successful round (empty before the first); ``local_host`` and
    ``local_process`` are this dashboard's own machine and Streamlit process (``HostCollector`` /
    ``ProcessCollector`` dicts), sampled whatever the hub's state."""

    taken_ns: int
    connection: HubConnection
    processes: tuple[Heartbeat, ...] = ()
    cameras: tuple[CameraStatus, ...] = ()
    alerts: Alerts | None = None
    local_host: dict[str, Any] | None = None
    local_process: dict[str, Any] | None = None
