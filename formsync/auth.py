"""Bearer tokens of the processes that call the hub (camera clients, analysis workers, dashboard).

Each process role reads its own variable, so one machine can run several roles with different
rights (the hub's roles and what each may do: ``server/auth.py``, docs/api.md#access):

| variable | used by |
|---|---|
| ``FORMSYNC_CAMERA_TOKEN`` | ``webcam_client.py``, the dashboard's browser camera |
| ``FORMSYNC_WORKER_TOKEN`` | ``python -m analysis.worker`` |
| ``FORMSYNC_VIEWER_TOKEN`` | the dashboard (``streamlit_app``) |

Unset or empty: no ``Authorization`` header (a hub on loopback without tokens accepts that).
Tokens are sent in the ``Authorization: Bearer`` header of every HTTP request and WebSocket
handshake, never in a URL (URLs end up in logs), and never logged here.
"""

from __future__ import annotations

import os

from pydantic import SecretStr

CAMERA_TOKEN_ENV = "FORMSYNC_CAMERA_TOKEN"
WORKER_TOKEN_ENV = "FORMSYNC_WORKER_TOKEN"
VIEWER_TOKEN_ENV = "FORMSYNC_VIEWER_TOKEN"


def token_from_env(name: str) -> SecretStr | None:
    """The token in environment variable ``name`` (surrounding spaces removed); None when unset or empty."""
    value = os.environ.get(name, "").strip()
    return SecretStr(value) if value else None


def bearer(token: SecretStr | str | None) -> dict[str, str]:
    """``{"Authorization": "Bearer <token>"}``, or ``{}`` without a token: pass it as an
    ``aiohttp.ClientSession(headers=...)`` so every request and WebSocket handshake carries it."""
    if isinstance(token, SecretStr):
        token = token.get_secret_value()
    return {"Authorization": f"Bearer {token}"} if token else {}
