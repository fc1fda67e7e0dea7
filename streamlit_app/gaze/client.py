"""Gaze calibration requests from the dashboard: ``POST/DELETE /api/v1/cameras/{id}/gaze/...``
(server/routes/gaze.py) over a ``HubClient``'s session, run from a button with ``call_hub``:

    call_hub(url, lambda c: request_calibration(c, "front", 2.0))
"""

from __future__ import annotations

import json
from urllib.parse import quote

import aiohttp

from streamlit_app.hub_client import HubClient, HubRejected, HubUnreachable


async def _send(client: HubClient, method: str, url: str, body: dict | None) -> dict:
    try:
        async with client.session.request(method, url, json=body) as resp:
            status, raw = resp.status, await resp.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise HubUnreachable(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
    if status >= 500:
        raise HubUnreachable(f"{method} {url}: hub answered {status}")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise HubUnreachable(f"{method} {url}: malformed answer: {raw[:200]!r}") from exc
    if status >= 400:
        err = data.get("error", {}) if isinstance(data, dict) else {}
        raise HubRejected(status, str(err.get("code", f"http_{status}")), str(err.get("message", "")))
    return data


async def request_calibration(client: HubClient, camera_id: str, duration_s: float = 2.0) -> dict:
    """Ask the camera's worker to take the gaze target from the next ``duration_s`` seconds.
    Returns the hub's ``GazeCalibrateOut`` (``request_id``, ``workers`` listening). Raises
    HubRejected (404 unknown camera, 422 bad duration) or HubUnreachable."""
    url = f"{client.api}/cameras/{quote(camera_id, safe='')}/gaze/calibrate"
    return await _send(client, "POST", url, {"duration_s": duration_s})


async def reset_calibration(client: HubClient, camera_id: str) -> dict:
    """Back to the default target (straight into the camera). Raises like ``request_calibration``."""
    url = f"{client.api}/cameras/{quote(camera_id, safe='')}/gaze/calibration"
    return await _send(client, "DELETE", url, None)
