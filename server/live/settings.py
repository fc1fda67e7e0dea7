"""The live view's settings, mixed into ``HubSettings`` (``FORMSYNC_HUB_DISPLAY_TOKEN_*``)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings


class LiveSettings(BaseSettings):
    display_token_ttl_s: float = Field(
        60.0, ge=0.1, le=3600,
        description="Lifetime of a display token (what a browser opens live sockets with), s; an open "
                    "socket outlives its token, a new one needs a valid token.")
    display_token_secret: SecretStr | None = Field(
        None, min_length=16,
        description="Key display tokens are signed with: the same on every hub process behind one "
                    "address. Unset: random per process (a restarted hub refuses earlier tokens).")
    live_hello_timeout_s: float = Field(
        5.0, gt=0, le=60, description="A live socket that sends no valid hello this long after opening is closed, s.")
