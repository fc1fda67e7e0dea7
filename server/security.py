"""Wiring of the hub's access rules into the app: tokens (``server/auth.py``) and CORS.

Middleware order, outermost first: request id (server/errors.py), CORS, ``RequireToken``, routes.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.websockets import WebSocket

from server.auth import OPEN_PATHS, ROLES_KEY, TokenAuth
from server.errors import ApiError


def install_security(app: FastAPI, settings) -> None:
    """``app.state.auth`` from the token settings; CORS only for the configured origins.

    With no ``cors_origins`` (the default) the hub sends no CORS headers at all, so a web page
    from another origin cannot read its answers: the browser-facing dashboard is a Streamlit
    server that calls the hub itself, never the browser.
    """
    app.state.auth = TokenAuth.from_settings(settings)
    app.add_middleware(RequireToken)
    if settings.cors_origins:  # outside RequireToken: a CORS preflight carries no token
        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-Id"], expose_headers=["X-Request-Id"],
        )


class RequireToken:
    """Pure ASGI middleware: a request or WebSocket handshake without a known bearer token gets
    401 (the hub's JSON error, with the request id) before routing, body parsing or validation,
    so a stranger learns nothing from the API but that it wants a token. Known tokens' roles are
    left in ``scope["state"]`` for the routes' role checks (server/auth.py ``requires``).
    Pass-through when authentication is off."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        auth: TokenAuth = scope["app"].state.auth
        if not auth.enabled or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"authorization"), None)
        try:
            roles = auth.authenticate(header)
        except ApiError as err:
            state = scope.setdefault("state", {})
            body = JSONResponse(err.body(state.get("request_id", "")), status_code=err.status,
                                headers={"WWW-Authenticate": "Bearer"})
            if scope["type"] == "http":
                await body(scope, receive, send)
            else:
                await WebSocket(scope, receive, send).send_denial_response(body)
            return
        scope.setdefault("state", {})[ROLES_KEY] = roles
        await self.app(scope, receive, send)
