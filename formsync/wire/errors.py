"""The one error shape every refusal of the hub takes, and reading it back (docs/api.md, *Errors*)::

    {"error": {"code": "frame_too_large", "message": "...", "details": {...}, "request_id": "..."}}
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError

from formsync.wire.base import Wire, read


class ErrorDetail(Wire):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$",
                      description="Stable machine-readable code, e.g. `frame_too_large` (table in docs/api.md).")
    message: str = Field(max_length=2000, description="What went wrong, for a person.")
    details: dict[str, Any] = Field(default_factory=dict,
                                    description="Facts about the refusal, e.g. `retry_after_s`, `limit`.")
    request_id: str = Field(max_length=128, description="The request's `X-Request-Id` (also in the hub's log).")


class ErrorOut(Wire):
    error: ErrorDetail = Field(description="Why the hub refused the request.")


def parse_error(status: int, body: bytes | str) -> ErrorDetail:
    """The error a hub answer carries. A body that is not the hub's error shape (a proxy's page,
    an empty body) gives code ``http_<status>`` and the body's first 200 characters as message."""
    try:
        return read(ErrorOut, body).error
    except (ValidationError, ValueError):
        text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body
        return ErrorDetail(code=f"http_{status}", message=text[:200], request_id="")


__all__ = ["ErrorDetail", "ErrorOut", "parse_error"]
