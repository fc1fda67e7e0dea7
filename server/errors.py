"""One JSON error shape for every failure the hub reports.

``{"error": {"code": str, "message": str, "details": dict, "request_id": str}}``
"""

from __future__ import annotations

import logging
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
    return JSONResponse(err.body(request_id_of(request)), status_code=err.status)


_STATUS_CODES = {404: "not_found", 405: "method_not_allowed"}


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

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", raw_id)]
            await send(message)

        await self.app(scope, receive, send_with_id)


def install_error_handlers(app: FastAPI) -> None:
    """Route FastAPI's own errors (validation, 404, 405) through the same shape as ours."""

    @app.exception_handler(ApiError)
    async def on_api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _json(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")}
            for e in exc.errors()
        ]
        where = ", ".join(".".join(p["loc"]) for p in problems) or "request"
        code = "validation_error"
        if any(p["loc"] == ["path", "camera_id"] for p in problems):
            code = "invalid_camera_id"
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
