"""Async reads of the hub's monitoring API (docs/api.md) over a caller-owned aiohttp session."""

from __future__ import annotations

import json

from pydantic import ValidationError

from streamlit_app.hub_client import HubClient, HubUnreachable
from streamlit_app.monitor.models import Alerts, Heartbeat


class MonitorClient(HubClient):
    """``HubClient`` plus heartbeats and alerts. Same errors: ``HubUnreachable``, ``HubRejected``."""

    async def heartbeats(self) -> tuple[Heartbeat, ...]:
        """``GET /api/v1/heartbeats``: every process the hub heard from, lost ones included."""
        url = f"{self.api}/heartbeats"
        status, body, _ = await self._get(url)
        self._check(url, status, body)
        try:
            return tuple(Heartbeat.model_validate(p) for p in json.loads(body)["processes"])
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            raise HubUnreachable(f"GET {url}: malformed answer: {exc}") from exc

    async def alerts(self, limit: int = 100) -> Alerts:
        """``GET /api/v1/alerts?limit=``: active alerts and the newest ``limit`` log entries."""
        url = f"{self.api}/alerts"
        status, body, _ = await self._get(url, params={"limit": str(limit)})
        self._check(url, status, body)
        try:
            return Alerts.model_validate_json(body)
        except ValidationError as exc:
            raise HubUnreachable(f"GET {url}: malformed answer: {exc}") from exc
