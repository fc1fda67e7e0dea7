"""Monitoring: the heartbeats every process posts (``/api/v1/heartbeats``) and the alerts
(``/api/v1/alerts``). Field tables of the host and process samples: ``formsync/host.py``,
``formsync/process.py``; the alert rules: ``server/monitoring/alert_rules.py``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from formsync.ids import CameraIdField
from formsync.wire.base import Count, Ms, Percent, SignedMs, TimeNs, Wire
from formsync.wire.frames import QualityTarget

PROCESS_ID_PATTERN = r"^[A-Za-z0-9_.@+:-]{1,128}$"
Rate = Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]
"""A rate over the last heartbeat interval, 1/s."""
_Unavailable = list[Annotated[str, Field(max_length=32)]]
AlertLevel = Literal["warning", "critical"]


class HostStats(Wire):
    """The sender's machine (psutil). Null: not offered on this machine, or its collector failed."""

    hostname: str = Field(min_length=1, max_length=255, description="The machine's host name.")
    cpu_percent: Percent | None = Field(None, description="All cores' busy share, 0-100.")
    cpu_count: int | None = Field(None, ge=1, le=4096, description="Logical CPUs.")
    memory_percent: Percent | None = Field(None, description="(total - available) / total, 0-100.")
    memory_used_bytes: Count | None = Field(None, description="total - available, bytes.")
    memory_total_bytes: Count | None = Field(None, description="Physical memory, bytes.")
    disk_path: str | None = Field(None, max_length=1024, description="A path on the filesystem measured.")
    disk_free_percent: Percent | None = Field(None, description="Free space for non-root users, 0-100.")
    disk_free_bytes: Count | None = Field(None, description="Free space for non-root users, bytes.")
    net_sent_bytes_per_s: float | None = Field(None, ge=0, le=1e12, description="NICs but loopback, bytes/s.")
    net_recv_bytes_per_s: float | None = Field(None, ge=0, le=1e12, description="NICs but loopback, bytes/s.")
    load_1m: float | None = Field(None, ge=0, le=1e5, description="1-minute load average.")
    temperature_c: float | None = Field(None, ge=-60, le=250, description="Hottest sensor, °C.")
    unavailable: _Unavailable = Field(default_factory=list, max_length=16,
                                      description="Collectors that failed or are not offered here.")


class ProcessStats(Wire):
    pid: int = Field(ge=1, le=2**31, description="Process id on its machine.")
    name: str = Field(max_length=255, description="Process name.")
    cpu_percent: Percent | None = Field(None, description="Share of the whole machine, 0-100.")
    rss_bytes: Count | None = Field(None, description="Resident set size, bytes.")
    threads: int | None = Field(None, ge=1, le=1_000_000, description="Threads of the process.")
    unavailable: _Unavailable = Field(default_factory=list, max_length=16,
                                      description="Figures that could not be read.")


class CameraLink(Wire):
    """One camera as its client reports it. Rates are over the last heartbeat interval."""

    camera_id: CameraIdField
    capture_fps: Rate = Field(description="Frames grabbed per second.")
    sent_fps: Rate = Field(description="Frames the hub accepted per second.")
    captured_total: Count = Field(description="Frames grabbed since the client started.")
    sent_total: Count = Field(description="Frames the hub accepted.")
    dropped_total: Count = Field(description="Replaced before upload: the hub was slower than the camera.")
    rejected_total: Count = Field(description="Refused by the hub (4xx).")
    failed_total: Count = Field(description="Uploads that found the hub unavailable.")
    upload_latency_p50_ms: Ms | None = Field(None, description="Median upload time over the last 300 uploads, ms.")
    upload_latency_p95_ms: Ms | None = Field(None, description="95th percentile of the same, ms.")
    clock_offset_ms: SignedMs | None = Field(None, description="Hub minus camera clock, ms.")
    clock_uncertainty_ms: Ms | None = Field(None, description="Bound on the offset's error, ms.")
    hub_up: bool | None = Field(None, description="The last upload reached the hub; null before the first.")
    hub_url: str | None = Field(None, max_length=300, description="The hub the last frame went to (one of several "
                                                                   "sharing their state); null before the first.")
    alive: bool = Field(True, description="False once the camera's thread ended.")
    quality: QualityTarget | None = Field(None, description="The hub's quality target the camera obeys now "
                                                            "(adaptive quality); null before the first or with it off.")


class AnalysisLink(Wire):
    """One camera as an analysis worker reports it."""

    camera_id: CameraIdField
    analysis_fps: Rate = Field(description="Frames analysed per second over the last interval.")
    analysed_total: Count = Field(description="Frames analysed since the worker started.")
    skipped_total: Count = Field(description="Frames skipped because analysis was busy (never queued).")
    rejected_total: Count = Field(description="Results the hub refused (other than 409 stale).")
    latency_p50_ms: Ms | None = Field(None, description="Capture -> result at the hub, median of the last 300, ms.")
    latency_p95_ms: Ms | None = Field(None, description="95th percentile of the same, ms.")
    busy: bool = Field(False, description="A frame is in analysis now.")


class WorkerStatus(Wire):
    """An analysis worker's link to the hub: whether it follows the hub's events, and its sets."""

    following: bool = Field(description="Connected to the hub's event stream: it sees new frames.")
    follow_error: str | None = Field(None, max_length=500,
                                     description="Why it does not follow the hub (while not `following`).")
    follower_restarts_total: Count = Field(description="Times the event follower lost the hub, restarted.")
    bad_events_total: Count = Field(description="Malformed events skipped.")
    sets_pending: Count = Field(description="Set updates not yet acknowledged by the hub (retried).")
    sets_sent_total: Count = Field(description="Set updates the hub acknowledged.")


Role = Literal["client", "worker", "hub", "dashboard"]


class HeartbeatIn(Wire):
    """A process's heartbeat, sent every ``interval_s`` (default 2 s)."""

    process_id: str = Field(pattern=PROCESS_ID_PATTERN,
                            description="Stable id, `role:hostname:detail`, e.g. `client:cam-pc:front+side`.")
    role: Role = Field(description="What the process is.")
    interval_s: float = Field(ge=0.1, le=60, description="Seconds to the next heartbeat; 3 missed: lost.")
    sent_time_ns: TimeNs = Field(description="Sender's clock, ns since the epoch.")
    host: HostStats = Field(description="The sender's machine.")
    process: ProcessStats = Field(description="The sending process.")
    cameras: list[CameraLink] = Field(default_factory=list, max_length=64, description="Camera clients only.")
    analysis: list[AnalysisLink] = Field(default_factory=list, max_length=64, description="Analysis workers only.")
    worker: WorkerStatus | None = Field(None, description="Analysis workers only.")


class HeartbeatOut(HeartbeatIn):
    received_time_ns: TimeNs = Field(description="Hub clock when the latest heartbeat arrived, ns.")
    age_s: float = Field(ge=0, le=1e9, description="Seconds since it arrived.")
    lost: bool = Field(description="True once no heartbeat arrived for 3 intervals.")
    lost_since_ns: TimeNs | None = Field(None, description="When the hub marked it lost, ns.")
    heartbeats_total: int = Field(ge=1, le=2**63 - 1, description="Heartbeats from this process since the hub "
                                                                  "started.")


class HeartbeatsOut(Wire):
    lost_after_intervals: int = Field(ge=1, le=1000, description="Missed intervals after which a process is lost.")
    processes: list[HeartbeatOut] = Field(max_length=10_000, description="The latest heartbeat of every process.")


_Threshold = Annotated[float, Field(ge=-1e15, le=1e15, allow_inf_nan=False)]


class AlertRuleOut(Wire):
    name: str = Field(max_length=64, description="Rule name, e.g. `cpu_high`.")
    metric: str = Field(max_length=64, description="The sample it reads (server/monitoring/alerts.py METRICS).")
    op: Literal[">", "<"] = Field(description="Fires when the metric is beyond `threshold` this way.")
    threshold: _Threshold = Field(description="Firing threshold, in the metric's unit.")
    clear_threshold: _Threshold = Field(description="Clears at or within this (hysteresis).")
    level: AlertLevel = Field(description="How bad it is.")
    for_s: float = Field(ge=0, le=86_400, description="The condition must hold this long to fire, s.")
    clear_for_s: float = Field(ge=0, le=86_400, description="...and stay cleared this long to clear, s.")
    enabled: bool = Field(description="False: never evaluated.")


class ActiveAlertOut(Wire):
    rule: str = Field(max_length=64, description="The rule that fired.")
    subject: str = Field(max_length=255, description="Host, camera, process or `hub`, per the rule's metric.")
    level: AlertLevel = Field(description="How bad it is.")
    since_ns: TimeNs = Field(description="When it fired, ns since the epoch.")
    value: float | None = Field(ge=-1e15, le=1e15, description="Newest value in the metric's unit; null while it "
                                                               "has no sample.")
    threshold: _Threshold = Field(description="The rule's firing threshold.")
    message: str = Field(max_length=1000, description="What fired, for a person.")


class AlertEventOut(Wire):
    id: int = Field(ge=1, le=2**63 - 1, description="Log entry id.")
    rule: str = Field(max_length=64, description="The rule.")
    subject: str = Field(max_length=255, description="What it is about.")
    level: AlertLevel = Field(description="How bad it is.")
    state: Literal["firing", "cleared"] = Field(description="What happened.")
    value: float | None = Field(ge=-1e15, le=1e15, description="The metric's value then.")
    threshold: float | None = Field(ge=-1e15, le=1e15, description="The rule's threshold then.")
    time_ns: TimeNs = Field(description="When it fired or cleared, ns since the epoch.")
    since_ns: TimeNs = Field(description="When this alert fired (equals time_ns on the firing entry).")
    message: str = Field(max_length=1000, description="What happened, for a person.")


class AlertsOut(Wire):
    active: list[ActiveAlertOut] = Field(max_length=10_000, description="Alerts firing now.")
    log: list[AlertEventOut] = Field(max_length=1000, description="Fired and cleared entries, newest first "
                                                                  "(persisted).")
    rules: list[AlertRuleOut] = Field(max_length=1000, description="The rules in force.")
