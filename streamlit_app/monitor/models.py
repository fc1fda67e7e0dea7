"""What the Monitor page knows: one round of the monitor poller, with the hub's heartbeats, cameras
and alerts (``formsync.wire`` models) and this dashboard's own machine and process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from formsync.wire.frames import CameraOut
from formsync.wire.leases import LeaseList
from formsync.wire.monitoring import AlertsOut, HeartbeatOut
from streamlit_app.models import HubConnection


@dataclass(frozen=True, slots=True)
class MonitorSnapshot:
    """One round of the monitor poller. ``processes``, ``cameras`` and ``alerts`` are the hub's
    answers from its latest successful round (empty before the first); ``local_host`` and
    ``local_process`` are this dashboard's own machine and Streamlit process (``HostCollector`` /
    ``ProcessCollector`` dicts), sampled whatever the hub's state; ``leases``: which worker
    analyses each camera (the hub's answer, None before the first)."""

    taken_ns: int
    connection: HubConnection
    processes: tuple[HeartbeatOut, ...] = ()
    cameras: tuple[CameraOut, ...] = ()
    alerts: AlertsOut | None = None
    local_host: dict[str, Any] | None = None
    local_process: dict[str, Any] | None = None
    leases: LeaseList | None = None
