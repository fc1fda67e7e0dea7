"""Dependency aliases shared by the routers: everything hangs on ``app.state``.

The getters are ``async def`` on purpose: a plain ``def`` dependency is run in FastAPI's thread
pool, which cost ~12 % of the hub's event-loop time per upload (py-spy, bench/ingest.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from starlette.requests import HTTPConnection

from formsync.ids import CAMERA_ID_PATTERN
from server.events import EventBus
from server.ingest import IngestService
from server.monitoring.heartbeats import HeartbeatRegistry
from server.monitoring.metrics import HubMetrics
from server.monitoring.monitor import HubMonitor
from server.references.jobs import ReferenceJobQueue
from server.references.store import ReferenceStore
from server.results import LatestResults
from server.set_store import SetStore
from server.settings import HubSettings
from server.store import FrameStore


async def _settings(conn: HTTPConnection) -> HubSettings:
    return conn.app.state.settings


async def _store(conn: HTTPConnection) -> FrameStore:
    return conn.app.state.store


async def _bus(conn: HTTPConnection) -> EventBus:
    return conn.app.state.bus


async def _results(conn: HTTPConnection) -> LatestResults:
    return conn.app.state.results


async def _sets(conn: HTTPConnection) -> SetStore:
    return conn.app.state.sets


async def _references(conn: HTTPConnection) -> ReferenceStore:
    return conn.app.state.references


async def _jobs(conn: HTTPConnection) -> ReferenceJobQueue:
    return conn.app.state.reference_jobs


async def _ingest(conn: HTTPConnection) -> IngestService:
    return conn.app.state.ingest


async def _metrics(conn: HTTPConnection) -> HubMetrics:
    return conn.app.state.metrics


async def _heartbeats(conn: HTTPConnection) -> HeartbeatRegistry:
    return conn.app.state.heartbeats


async def _monitor(conn: HTTPConnection) -> HubMonitor:
    return conn.app.state.monitor


SettingsDep = Annotated[HubSettings, Depends(_settings)]
StoreDep = Annotated[FrameStore, Depends(_store)]
BusDep = Annotated[EventBus, Depends(_bus)]
ResultsDep = Annotated[LatestResults, Depends(_results)]
SetsDep = Annotated[SetStore, Depends(_sets)]
ReferencesDep = Annotated[ReferenceStore, Depends(_references)]
JobsDep = Annotated[ReferenceJobQueue, Depends(_jobs)]
IngestDep = Annotated[IngestService, Depends(_ingest)]
MetricsDep = Annotated[HubMetrics, Depends(_metrics)]
HeartbeatsDep = Annotated[HeartbeatRegistry, Depends(_heartbeats)]
MonitorDep = Annotated[HubMonitor, Depends(_monitor)]
CameraId = Annotated[str, Path(pattern=CAMERA_ID_PATTERN, description="Camera id, `^[A-Za-z0-9_-]{1,64}$`.")]
