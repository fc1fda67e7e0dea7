"""Dependency aliases shared by the routers: everything hangs on ``app.state``.

The getters are ``async def`` on purpose: a plain ``def`` dependency is run in FastAPI's thread
pool, which cost ~12 % of the hub's event-loop time per upload (py-spy, bench/ingest.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from starlette.requests import HTTPConnection

from .events import EventBus
from .ingest import IngestService
from .results import LatestResults
from .settings import CAMERA_ID_PATTERN, HubSettings
from .store import FrameStore


async def _settings(conn: HTTPConnection) -> HubSettings:
    return conn.app.state.settings


async def _store(conn: HTTPConnection) -> FrameStore:
    return conn.app.state.store


async def _bus(conn: HTTPConnection) -> EventBus:
    return conn.app.state.bus


async def _results(conn: HTTPConnection) -> LatestResults:
    return conn.app.state.results


async def _ingest(conn: HTTPConnection) -> IngestService:
    return conn.app.state.ingest


SettingsDep = Annotated[HubSettings, Depends(_settings)]
StoreDep = Annotated[FrameStore, Depends(_store)]
BusDep = Annotated[EventBus, Depends(_bus)]
ResultsDep = Annotated[LatestResults, Depends(_results)]
IngestDep = Annotated[IngestService, Depends(_ingest)]
CameraId = Annotated[str, Path(pattern=CAMERA_ID_PATTERN, description="Camera id, `^[A-Za-z0-9_-]{1,64}$`.")]
