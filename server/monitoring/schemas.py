"""Wire models of the monitoring API: heartbeats (``/api/v1/heartbeats``) and alerts
(``/api/v1/alerts``). Field tables of the host and process samples: ``monitoring/host.py``,
``monitoring/process.py``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from formsync.ids import CameraIdField
from server.schemas import _Wire

PROCESS_ID_PATTERN = r"^[A-Za-z0-9_.@+:-]{1,128}$"
_CameraId = CameraIdField
_Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
_Rate = Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]
_Ms = Annotated[float, Field(ge=0, le=3_600_000, allow_inf_nan=False)]
_Count = Annotated[int, Field(ge=0, le=2**63 - 1)]


class HostStats(_Wire):
    """The sender's machine (psutil). None: not offered on this machine, or its collector failed."""

    hostname: str = Field(min_length=1, max_length=255)
    cpu_percent: _Percent | None = Field(None, description="All cores' busy share, 0-100.")
    cpu_count: int | None = Field(None, ge=1, le=4096)
    memory_percent: _Percent | None = Field(None, description="(total - available) / total, 0-100.")
    memory_used_bytes: _Count | None = None
    memory_total_bytes: _Count | None = None
    disk_path: str | None = Field(None, max_length=1024, description="A path on the filesystem measured.")
    disk_free_percent: _Percent | None = Field(None, description="Free space for non-root users, 0-100.")
    disk_free_bytes: _Count | None = None
    net_sent_bytes_per_s: float | None = Field(None, ge=0, le=1e12, description="NICs but loopback, bytes/s.")
    net_recv_bytes_per_s: float | None = Field(None, ge=0, le=1e12)
    load_1m: float | None = Field(None, ge=0, le=1e5, description="1-minute load average.")
    temperature_c: float | None = Field(None, ge=-60, le=250, description="Hottest sensor, °C.")
    unavailable: list[Annotated[str, Field(max_length=32)]] = Field(default_factory=list, max_length=16)


class ProcessStats(_Wire):
    pid: int = Field(ge=1, le=2**31)
    name: str = Field(max_length=255)
    cpu_percent: _Percent | None = Field(None, description="Share of the whole machine, 0-100.")
    rss_bytes: _Count | None = Field(None, description="Resident set size, bytes.")
    threads: int | None = Field(None, ge=1, le=1_000_000)
    unavailable: list[Annotated[str, Field(max_length=32)]] = Field(default_factory=list, max_length=16)


class CameraLink(_Wire):
    """One camera as its client reports it. Rates are over the last heartbeat interval."""

    camera_id: _CameraId
    capture_fps: _Rate = Field(description="Frames grabbed per second.")
    sent_fps: _Rate = Field(description="Frames the hub accepted per second.")
    captured_total: _Count
    sent_total: _Count
    dropped_total: _Count = Field(description="Replaced before upload: the hub was slower than the camera.")
    rejected_total: _Count = Field(description="Refused by the hub (4xx).")
    failed_total: _Count = Field(description="Uploads that found the hub unavailable.")
    upload_latency_p50_ms: _Ms | None = Field(None, description="Over the last 300 uploads.")
    upload_latency_p95_ms: _Ms | None = None
    clock_offset_ms: float | None = Field(None, ge=-86_400_000, le=86_400_000,
                                          description="Hub minus camera clock.")
    clock_uncertainty_ms: _Ms | None = None
    hub_up: bool | None = Field(None, description="The last upload reached the hub; None before the first.")
    alive: bool = Field(True, description="False once the camera's thread ended.")


class AnalysisLink(_Wire):
    """One camera as an analysis worker reports it."""

    camera_id: _CameraId
    analysis_fps: _Rate = Field(description="Frames analysed per second over the last interval.")
    analysed_total: _Count
    skipped_total: _Count = Field(description="Frames skipped because analysis was busy (never queued).")
    rejected_total: _Count = Field(description="Results the hub refused (other than 409 stale).")
    latency_p50_ms: _Ms | None = Field(None, description="Capture -> result at the hub, last 300 results.")
    latency_p95_ms: _Ms | None = None
    busy: bool = Field(False, description="A frame is in analysis now.")


class WorkerStatus(_Wire):
    """An analysis worker's link to the hub: whether it follows the hub's events, and its sets."""

    following: bool = Field(description="Connected to the hub's event stream: it sees new frames.")
    follow_error: str | None = Field(None, max_length=500,
                                     description="Why it does not follow the hub (while not `following`).")
    follower_restarts_total: _Count = Field(description="Times the event follower lost the hub, restarted.")
    bad_events_total: _Count = Field(description="Malformed events skipped.")
    sets_pending: _Count = Field(description="Set updates not yet acknowledged by the hub (retried).")
    sets_sent_total: _Count


Role = Literal["client", "worker", "hub", "dashboard"]


class HeartbeatIn(_Wire):
    """A process's heartbeat, sent every ``interval_s`` (default 2 s)."""

    process_id: str = Field(pattern=PROCESS_ID_PATTERN,
                            description="Stable id, `role:hostname:detail`, e.g. `client:cam-pc:front+side`.")
    role: Role
    interval_s: float = Field(ge=0.1, le=60, description="Seconds to the next heartbeat; 3 missed: lost.")
    sent_time_ns: int = Field(ge=0, le=2**63 - 1, description="Sender's clock, ns since the epoch.")
    host: HostStats
    process: ProcessStats
    cameras: list[CameraLink] = Field(default_factory=list, max_length=64)
    analysis: list[AnalysisLink] = Field(default_factory=list, max_length=64)
    worker: WorkerStatus | None = Field(None, description="Analysis workers only.")


class HeartbeatOut(HeartbeatIn):
    received_time_ns: int = Field(ge=0, description="Hub clock when the latest heartbeat arrived, ns.")
    age_s: float = Field(ge=0, description="Seconds since it arrived.")
    lost: bool = Field(description="True once no heartbeat arrived for 3 intervals.")
    lost_since_ns: int | None = Field(None, ge=0, description="When the hub marked it lost.")
    heartbeats_total: int = Field(ge=1, description="Heartbeats from this process since the hub started.")


class HeartbeatsOut(_Wire):
    lost_after_intervals: int = Field(ge=1, description="Missed intervals after which a process is lost.")
    processes: list[HeartbeatOut]


class AlertRuleOut(_Wire):
    name: str
    metric: str
    op: Literal[">", "<"]
    threshold: float
    clear_threshold: float
    level: Literal["warning", "critical"]
    for_s: float
    clear_for_s: float
    enabled: bool


class ActiveAlertOut(_Wire):
    rule: str
    subject: str = Field(description="Host, camera, process or `hub`, per the rule's metric.")
    level: Literal["warning", "critical"]
    since_ns: int = Field(description="When it fired, ns since the epoch.")
    value: float | None = Field(description="Newest value in the metric's unit; None while it has no sample.")
    threshold: float
    message: str


class AlertEventOut(_Wire):
    id: int = Field(ge=1)
    rule: str
    subject: str
    level: Literal["warning", "critical"]
    state: Literal["firing", "cleared"]
    value: float | None
    threshold: float | None
    time_ns: int = Field(description="When it fired or cleared, ns since the epoch.")
    since_ns: int = Field(description="When this alert fired (equals time_ns on the firing entry).")
    message: str


class AlertsOut(_Wire):
    active: list[ActiveAlertOut]
    log: list[AlertEventOut] = Field(description="Fired and cleared entries, newest first (persisted).")
    rules: list[AlertRuleOut]
