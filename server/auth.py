"""Who may call what: bearer tokens per role, compared in constant time.

Roles (docs/api.md#access):

| role | token setting | may |
|---|---|---|
| ``camera`` | ``FORMSYNC_HUB_CAMERA_TOKENS`` | upload frames (HTTP, WebSocket), post heartbeats, read the clock |
| ``worker`` | ``FORMSYNC_HUB_WORKER_TOKENS`` | post analysis results, set summaries and heartbeats; store
  references and take, report and finish reference build jobs; read frames, events, references |
| ``viewer`` | ``FORMSYNC_HUB_VIEWER_TOKENS`` | read frames, results, sets, events, references, jobs, metrics, alerts,
  heartbeats; the dashboard's operator controls (reference choice, a video to build a reference from,
  gaze calibration, forgetting a process) |

Analysis workers get a role of their own rather than a camera token: they must read frames and
events, which a camera token must not allow (a stolen camera token would otherwise show every
camera's picture). A token may be listed under several roles.

Authentication is on as soon as any token is configured; with none the hub is open, which the
settings allow only when it binds to a loopback address (``check_exposure``). The token travels in
``Authorization: Bearer <token>`` on every HTTP request and WebSocket handshake (no query
parameter: URLs end up in logs and proxies). Two gates: ``RequireToken`` (server/security.py), an
ASGI middleware, refuses a request without a known token (401) before anything reads its body or
routes it; each route's ``requires(...)`` dependency then checks the token's role (403).
``OPEN_PATHS`` (``/healthz``, the OpenAPI schema and docs) need no token.

Errors: 401 ``missing_token`` (no or malformed header), 401 ``invalid_token`` (unknown token),
403 ``forbidden`` (a valid token of another role). Tokens are never logged or echoed.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import ipaddress
import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Depends, Security
from fastapi.security import HTTPBearer
from pydantic import SecretStr
from starlette.requests import HTTPConnection

from server.errors import ApiError

MIN_TOKEN_CHARS = 16
"""Shortest token accepted in the settings: ``secrets.token_urlsafe(32)`` gives 43 characters."""

TOKEN_SETTINGS = ("camera_tokens", "viewer_tokens", "worker_tokens")
ROLES_KEY = "auth_roles"
"""Where ``RequireToken`` leaves the caller's roles in the request's ``scope["state"]``."""
OPEN_PATHS = frozenset({"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc",
                        "/api/v1/live/stream"})
"""Answered without a token: liveness, and the API's description (public, like the code). The live
socket is opened by a browser, which cannot set a header on it: its first message carries a display
token instead (server/live/tokens.py)."""


class Role(str, enum.Enum):
    CAMERA = "camera"
    WORKER = "worker"
    VIEWER = "viewer"


def make_token() -> str:
    """A new random token: 32 bytes from ``secrets`` (the OS CSPRNG), URL-safe base64, 43 chars."""
    return secrets.token_urlsafe(32)


def parse_list(value: Any) -> Any:
    """Settings input (tokens, origins) -> list: a JSON list (``'["a", "b"]'``), or comma-separated
    text (``"a,b"``); blanks are dropped. Anything else is passed on for pydantic to validate."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                raise ValueError("a JSON list that does not parse") from None
        else:
            value = [t for t in (p.strip() for p in text.split(",")) if t]
    return value


def check_token(token: SecretStr) -> SecretStr:
    """Reject short tokens and tokens with spaces or commas (they could not be sent or listed)."""
    raw = token.get_secret_value()
    if len(raw) < MIN_TOKEN_CHARS:
        raise ValueError(f"tokens must have at least {MIN_TOKEN_CHARS} characters "
                         "(`python fastapi_server.py --make-token` prints one)")
    if any(c.isspace() or c == "," for c in raw):
        raise ValueError("tokens may not contain spaces or commas")
    return token


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1); any other name or
    address (``0.0.0.0``, a LAN address, a host name) may be reachable from other machines."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, tokens: Mapping[str, Iterable[SecretStr]]) -> None:
    """Raises ValueError, naming the settings, when ``host`` is not loopback and a role has no token."""
    if is_loopback(host):
        return
    missing = [name for name in TOKEN_SETTINGS if not tuple(tokens.get(name, ()))]
    if missing:
        names = ", ".join(f"FORMSYNC_HUB_{m.upper()}" for m in missing)
        raise ValueError(
            f"the hub binds to {host!r}, which other machines may reach, so it needs tokens: set {names} "
            "(comma-separated or a JSON list; `python fastapi_server.py --make-token` prints a new one), "
            "or bind to 127.0.0.1")


def _digest(token: str) -> bytes:
    # Comparing fixed-length digests keeps compare_digest's time independent of the token's length too.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class TokenAuth:
    """Resolves a bearer token to its roles.

    Args:
        tokens: role -> tokens of that role.
    """

    def __init__(self, tokens: Mapping[Role, Iterable[SecretStr | str]]) -> None:
        self._known: list[tuple[bytes, Role]] = []
        for role, items in tokens.items():
            for t in items:
                raw = t.get_secret_value() if isinstance(t, SecretStr) else t
                self._known.append((_digest(raw), Role(role)))

    @classmethod
    def from_settings(cls, settings) -> TokenAuth:
        return cls({Role.CAMERA: settings.camera_tokens, Role.VIEWER: settings.viewer_tokens,
                    Role.WORKER: settings.worker_tokens})

    @property
    def enabled(self) -> bool:
        return bool(self._known)

    def roles_of(self, token: str) -> frozenset[Role]:
        """Every role ``token`` holds (empty: unknown). Compares against every known token, with
        no early exit, so the time taken does not tell which one matched."""
        given = _digest(token)
        found = set()
        for known, role in self._known:
            if hmac.compare_digest(known, given):
                found.add(role)
        return frozenset(found)

    def authenticate(self, authorization: str | None) -> frozenset[Role]:
        """The roles of an ``Authorization: Bearer`` header value.

        Raises ApiError 401 ``missing_token`` (no or malformed header) / ``invalid_token`` (unknown).
        """
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "missing_token", "this endpoint needs `Authorization: Bearer <token>`")
        roles = self.roles_of(token)
        if not roles:
            raise ApiError(401, "invalid_token", "the bearer token is not one the hub knows")
        return roles

    def authorize(self, authorization: str | None, allowed: frozenset[Role],
                  roles: frozenset[Role] | None = None) -> None:
        """Check an ``Authorization`` header value (or its already known ``roles``) against the
        roles ``allowed``.

        Raises ApiError 401 ``missing_token`` / ``invalid_token`` or 403 ``forbidden``.
        """
        if not self.enabled:
            return
        if roles is None:
            roles = self.authenticate(authorization)
        if not roles & allowed:
            raise ApiError(403, "forbidden",
                           f"a {'/'.join(sorted(r.value for r in roles))} token may not use this endpoint",
                           roles=sorted(r.value for r in allowed))


# Declares the scheme in the OpenAPI schema (so /docs and schemathesis send the header); the check
# itself is ours, so that missing and wrong tokens get the hub's JSON errors.
_bearer = HTTPBearer(auto_error=False, description="A camera, worker or viewer token (docs/api.md#access).")


def requires(*roles: Role, websocket: bool = False):
    """A FastAPI dependency letting through requests (or, with ``websocket``, WebSocket handshakes)
    whose token holds one of ``roles``; everything while authentication is off. Use as
    ``dependencies=[requires(...)]``. A refused handshake gets the same JSON error as an HTTP call
    (server/errors.py sends it as the handshake's HTTP answer)."""
    allowed = frozenset(roles)

    # async: a plain def dependency would cost a thread hop per frame upload (server/deps.py).
    async def check(conn: HTTPConnection) -> None:
        auth: TokenAuth = conn.app.state.auth
        if auth.enabled:
            # RequireToken (server/security.py) already resolved the token's roles for this request.
            auth.authorize(conn.headers.get("authorization"), allowed, conn.scope.get("state", {}).get(ROLES_KEY))

    if websocket:  # WebSocket routes are not in the OpenAPI schema, and HTTPBearer wants a Request
        return Depends(check)

    async def check_http(conn: HTTPConnection, _scheme: Any = Security(_bearer)) -> None:
        await check(conn)

    return Depends(check_http)


CAMERA = requires(Role.CAMERA)
WORKER = requires(Role.WORKER)
VIEWER = requires(Role.VIEWER)
READER = requires(Role.VIEWER, Role.WORKER)
"""Reads the analysis workers need as well as the dashboard: frames, results, sets, references."""
REPORTER = requires(Role.CAMERA, Role.WORKER)
"""Heartbeats: camera clients and workers both report their health."""
ANY_ROLE = requires(Role.CAMERA, Role.WORKER, Role.VIEWER)
WS_CAMERA = requires(Role.CAMERA, websocket=True)
WS_READER = requires(Role.VIEWER, Role.WORKER, websocket=True)
