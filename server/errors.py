"""One JSON error shape for every failure the hub reports.

``{"error": {"code": str, "message": str, "details": dict, "request_id": str}}``
"""

from __future__ import annotations

import contextvars
import logging
import math
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with an HTTP status and a stable machine-readable ``code``."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self, request_id: str = "") -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "details": self.details,
                "request_id": request_id,
            }
        }


def request_id_of(request: Request) -> str:
    return getattr(request.state, "request_id", "") or ""


def _json(request: Request, err: ApiError) -> JSONResponse:
    headers = None
    wait = err.details.get("retry_after_s") if err.status == 429 else None
    if isinstance(wait, (int, float)) and math.isfinite(wait):
        # RFC 9110 §10.2.3: whole seconds; the exact wait is in the body's details.
        headers = {"Retry-After": str(max(1, math.ceil(wait)))}
    return JSONResponse(err.body(request_id_of(request)), status_code=err.status, headers=headers)


_STATUS_CODES = {404: "not_found", 405: "method_not_allowed"}
_PATH_CODES = {"camera_id": "invalid_camera_id", "name": "invalid_reference_name", "job_id": "invalid_job_id"}
"""A malformed path parameter gets a code of its own: the caller learns which id was wrong."""

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
"""The current request's id, for log lines (``RequestIdLogFilter``); ``-`` outside a request."""


class RequestIdLogFilter(logging.Filter):
    """Adds ``record.request_id`` (the request being served, or ``-``) so a log format can show it:
    ``"%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RequestIdMiddleware:
    """Give every request an id (the caller's ``X-Request-Id`` or a new one), echoed in the response.

    A plain ASGI middleware rather than ``@app.middleware("http")``: the latter wraps every
    request in extra tasks and streams, which costs measurable time on the frame-ingest path.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                request_id = value.decode("latin-1")[:64]
                break
        request_id = request_id or uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        raw_id = request_id.encode("latin-1")
        token = request_id_var.set(request_id)

        async def send_with_id(message) -> None:
            # websocket.http.response.start: a refused WebSocket handshake (e.g. 401) is an HTTP answer too.
            if message["type"] in ("http.response.start", "websocket.http.response.start"):
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", raw_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


def install_error_handlers(app: FastAPI) -> None:
    """Route FastAPI's own errors (validation, 404, 405) through the same shape as ours."""

    @app.exception_handler(ApiError)
    async def on_api_error(request: Request, exc: ApiError) -> JSONResponse | None:
        if request.scope["type"] == "websocket":
            # Raised by a WebSocket route's dependency (e.g. a missing token) before the handshake:
            # refuse it with the same JSON body and status as an HTTP call would get.
            await request.send_denial_response(_json(request, exc))
            return None
        return _json(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")}
            for e in exc.errors()
        ]
        where = ", ".join(".".join(p["loc"]) for p in problems) or "request"
        code = "validation_error"
        for p in problems:
            if len(p["loc"]) == 2 and p["loc"][0] == "path" and p["loc"][1] in _PATH_CODES:
                code = _PATH_CODES[p["loc"][1]]
                break
        err = ApiError(422, code, f"invalid {where}", problems=problems)
        return _json(request, err)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return _json(request, ApiError(exc.status_code, code, str(exc.detail)))

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _json(request, ApiError(500, "internal_error", "internal server error"))
