"""Async reads of the hub API (docs/api.md) over a caller-owned aiohttp session."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from urllib.parse import quote

import aiohttp
from pydantic import ValidationError

from streamlit_app.models import AnalysisView, CameraStatus, FrameImage, SetSaving, SetView, SyncSet


class HubUnreachable(ConnectionError):
    """No usable answer: connection refused or dropped, timeout, 5xx, or a malformed reply."""


class HubRejected(Exception):
    """The hub answered a 4xx this client did not expect; ``code`` is its error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code = status, code


def _rejection(status: int, body: bytes) -> HubRejected:
    try:
        err = json.loads(body)["error"]
        return HubRejected(status, str(err.get("code", "?")), str(err.get("message", "")))
    except (ValueError, KeyError, TypeError):
        return HubRejected(status, f"http_{status}", body[:200].decode("utf-8", "replace"))


class HubClient:
    """Reads cameras, latest frames, frames by seq and synchronised sets.

    Args:
        session: an open ``aiohttp.ClientSession`` (its timeout applies to every request).
        hub_url: base URL, e.g. ``http://127.0.0.1:8000``.

    Every method raises ``HubUnreachable`` when the hub cannot be asked, ``HubRejected`` on an
    unexpected 4xx.
    """

    def __init__(self, session: aiohttp.ClientSession, hub_url: str) -> None:
        self.session = session
        self.base = hub_url.rstrip("/")
        self.api = f"{self.base}/api/v1"

    @property
    def events_url(self) -> str:
        return self.base.replace("http", "ws", 1) + "/api/v1/events"

    async def _get(self, url: str, **kwargs) -> tuple[int, bytes, Mapping[str, str]]:
        try:
            async with self.session.get(url, **kwargs) as resp:
                return resp.status, await resp.read(), resp.headers
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise HubUnreachable(f"GET {url}: {type(exc).__name__}: {exc}") from exc

    def _check(self, url: str, status: int, body: bytes) -> None:
        if status >= 500:
            raise HubUnreachable(f"GET {url}: hub answered {status}")
        if status >= 400:
            raise _rejection(status, body)

    async def cameras(self) -> tuple[CameraStatus, ...]:
        """``GET /api/v1/cameras``: every camera the hub knows, sorted by id."""
        url = f"{self.api}/cameras"
        status, body, _ = await self._get(url)
        self._check(url, status, body)
        try:
            return tuple(CameraStatus.model_validate(c) for c in json.loads(body)["cameras"])
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            raise HubUnreachable(f"GET {url}: malformed answer: {exc}") from exc

    async def latest_frame(self, camera_id: str) -> FrameImage | None:
        """``GET /api/v1/cameras/{id}/frame``; None when the camera has sent no frame (404)."""
        return await self._frame_image(camera_id, f"{self._camera_url(camera_id)}/frame")

    async def frame(self, camera_id: str, seq: int) -> FrameImage | None:
        """``GET /api/v1/cameras/{id}/frames/{seq}``: a recent frame by seq (e.g. one of a
        synchronised set); None when it already left the hub's ~1 s ring (404)."""
        return await self._frame_image(camera_id, f"{self._camera_url(camera_id)}/frames/{int(seq)}")

    def _camera_url(self, camera_id: str) -> str:
        return f"{self.api}/cameras/{quote(camera_id, safe='')}"

    async def _frame_image(self, camera_id: str, url: str) -> FrameImage | None:
        """A JPEG endpoint's answer with its X- headers; None on 404."""
        status, body, headers = await self._get(url)
        if status == 404:
            return None
        self._check(url, status, body)
        try:
            source = headers.get("X-Source-Frame")
            return FrameImage(
                camera_id=camera_id,
                seq=int(headers["X-Frame-Seq"]),
                capture_time_ns=int(headers["X-Capture-Time-Ns"]),
                hub_receive_time_ns=int(headers["X-Hub-Receive-Time-Ns"]),
                width=int(headers["X-Frame-Width"]),
                height=int(headers["X-Frame-Height"]),
                source_frame=int(source) if source is not None else None,
                jpeg=body,
                fetched_time_ns=time.time_ns(),
            )
        except (KeyError, ValueError) as exc:
            raise HubUnreachable(f"GET {url}: missing or bad frame header: {exc}") from exc

    async def sync_set(self, camera_ids: list[str]) -> SyncSet | None:
        """``GET /api/v1/frames/sync?cameras=a,b``; None when one of them has no frame or no set
        of their frames fits the hub's maximum spread (404)."""
        url = f"{self.api}/frames/sync"
        status, body, _ = await self._get(url, params={"cameras": ",".join(camera_ids)})
        if status == 404:
            return None
        self._check(url, status, body)
        try:
            return SyncSet.model_validate_json(body)
        except ValidationError as exc:
            raise HubUnreachable(f"GET {url}: malformed answer: {exc}") from exc

    async def _json(self, url: str, model=None, **kwargs):
        """GET a JSON answer, validated by ``model`` when given; None on 404."""
        status, body, _ = await self._get(url, **kwargs)
        if status == 404:
            return None
        self._check(url, status, body)
        try:
            return model.model_validate_json(body) if model is not None else json.loads(body)
        except (ValueError, ValidationError) as exc:
            raise HubUnreachable(f"GET {url}: malformed answer: {exc}") from exc

    async def analysis(self, camera_id: str) -> AnalysisView | None:
        """``GET /api/v1/cameras/{id}/analysis``: the camera's latest result; None before the first."""
        return await self._json(f"{self._camera_url(camera_id)}/analysis", AnalysisView)

    async def live_set(self, camera_id: str) -> SetView | None:
        """``GET /api/v1/cameras/{id}/set``: the set in progress (or the last closed one)."""
        return await self._json(f"{self._camera_url(camera_id)}/set", SetView)

    async def sets(self, limit: int = 20) -> tuple[SetView, ...]:
        """``GET /api/v1/sets``: closed sets, newest first."""
        data = await self._json(f"{self.api}/sets", params={"limit": limit})
        try:
            return tuple(SetView.model_validate(s) for s in (data or {}).get("sets", []))
        except ValidationError as exc:
            raise HubUnreachable(f"GET {self.api}/sets: malformed answer: {exc}") from exc

    async def set_saving(self) -> SetSaving:
        """``GET /api/v1/sets?limit=1``'s ``unsaved`` and ``persist_error``: closed sets the hub holds
        in memory because its database refused them (disk full, locked), and why."""
        data = await self._json(f"{self.api}/sets", params={"limit": 1}) or {}
        try:
            return SetSaving(int(data.get("unsaved", 0)), data.get("persist_error"))
        except (TypeError, ValueError) as exc:
            raise HubUnreachable(f"GET {self.api}/sets: malformed answer: {exc}") from exc

    async def set_summaries(self, limit: int = 50, camera_id: str | None = None) -> list[dict]:
        """``GET /api/v1/sets`` as the hub's raw SetSummary objects (every field, for readers with
        their own model such as ``feedback.summary.SetSummary``), newest first."""
        params = {"limit": limit, **({"camera_id": camera_id} if camera_id else {})}
        data = await self._json(f"{self.api}/sets", params=params)
        sets = (data or {}).get("sets", [])
        if not isinstance(sets, list):
            raise HubUnreachable(f"GET {self.api}/sets: malformed answer: 'sets' is not a list")
        return sets

    async def set_summary(self, set_id: str) -> dict | None:
        """``GET /api/v1/sets/{set_id}``: one closed set as a raw SetSummary; None when unknown (404)."""
        return await self._json(f"{self.api}/sets/{quote(set_id, safe='')}")

    async def camera_set_summary(self, camera_id: str) -> dict | None:
        """``GET /api/v1/cameras/{id}/set`` as a raw SetSummary: the live set, or the last closed one;
        None when the camera has none (404)."""
        return await self._json(f"{self._camera_url(camera_id)}/set")

    async def reference(self) -> str | None:
        """``GET /api/v1/reference``: the chosen reference's name (None: the workers' default)."""
        data = await self._json(f"{self.api}/reference")
        return (data or {}).get("name")

    async def choose_reference(self, name: str) -> None:
        """``PUT /api/v1/reference``: workers score against ``name`` from their next frame."""
        url = f"{self.api}/reference"
        try:
            async with self.session.put(url, json={"name": name}) as resp:
                status, body = resp.status, await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise HubUnreachable(f"PUT {url}: {type(exc).__name__}: {exc}") from exc
        self._check(url, status, body)

    async def connect_events(self, heartbeat_s: float = 5.0) -> aiohttp.ClientWebSocketResponse:
        """Open ``WS /api/v1/events``; pings every ``heartbeat_s`` so a dead hub is noticed."""
        try:
            return await self.session.ws_connect(self.events_url, heartbeat=heartbeat_s)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise HubUnreachable(f"WS {self.events_url}: {type(exc).__name__}: {exc}") from exc


def call_hub(hub_url: str, call, timeout_s: float = 5.0, token=None):
    """Run one ``HubClient`` coroutine from synchronous code (a button on a page):
    ``call_hub(url, lambda c: c.choose_reference("mine"))``. Raises what the call raises.
    ``token``: the viewer token; by default ``DashboardSettings().viewer_token``."""
    import asyncio

    from formsync.auth import bearer

    if token is None:
        from streamlit_app.settings import DashboardSettings

        token = DashboardSettings().viewer_token

    async def run():
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s),
                                         headers=bearer(token)) as session:
            return await call(HubClient(session, hub_url))

    return asyncio.run(run())
