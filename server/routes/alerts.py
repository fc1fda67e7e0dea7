"""Alerts: the ones firing now, the persisted log of fired/cleared, and the rules in force."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from formsync.wire.monitoring import AlertsOut
from server.auth import VIEWER
from server.deps import MonitorDep

router = APIRouter(prefix="/alerts", tags=["monitoring"], dependencies=[VIEWER])


@router.get("", response_model=AlertsOut, summary="Active alerts, the alert log (newest first) and the rules")
async def get_alerts(
    monitor: MonitorDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Log entries to return, newest first.")] = 100,
) -> dict:
    log = await asyncio.to_thread(monitor.alert_log.recent, limit)  # SQLite: off the event loop
    rules = [{**r.model_dump(exclude={"summary"}), "clear_threshold": r.clear}
             for r in monitor.engine.all_rules]
    return {"active": [asdict(a) for a in monitor.active()], "log": log, "rules": rules}
