"""The hub's access and input-limit settings, mixed into ``HubSettings``.

Environment: ``FORMSYNC_HUB_CAMERA_TOKENS``, ``..._VIEWER_TOKENS``, ``..._WORKER_TOKENS`` (comma-
separated or a JSON list), ``..._CORS_ORIGINS``, ``..._UPLOAD_RATE_FACTOR``, ``..._DEFAULT_CAMERA_FPS``,
``..._MAX_FUTURE_S``, ``..._ANALYSIS_STALE_AFTER_S``. Checked at start-up: a hub bound beyond
loopback without tokens for every role stops with a message naming the missing settings.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from server.auth import check_exposure, check_token, parse_list

# NoDecode: pydantic-settings would otherwise demand JSON for a list; parse_list takes both.
Tokens = Annotated[tuple[Annotated[SecretStr, AfterValidator(check_token)], ...], NoDecode,
                   BeforeValidator(parse_list)]
Origins = Annotated[tuple[Annotated[str, Field(pattern=r"^https?://[^/\s]+$")], ...], NoDecode,
                    BeforeValidator(parse_list)]


class SecuritySettings(BaseSettings):
    """Tokens (``server/auth.py``), CORS, and the per-camera upload limits (``server/limits.py``)."""

    # A bad setting's message must not print the tokens it was given.
    model_config = SettingsConfigDict(hide_input_in_errors=True)

    camera_tokens: Tokens = Field(
        (), description="Tokens that may upload frames and post heartbeats (role `camera`).")
    viewer_tokens: Tokens = Field(
        (), description="Tokens that may read frames, results, sets, events, metrics (role `viewer`, the dashboard).")
    worker_tokens: Tokens = Field(
        (), description="Tokens of analysis workers: post results, sets, heartbeats; read frames and events.")
    cors_origins: Origins = Field(
        (), description="Browser origins allowed to call the hub (CORS), e.g. `http://dash.local:8501`; "
                        "none by default, so browsers refuse cross-origin reads.")
    upload_rate_factor: float = Field(
        2.0, ge=0, le=100,
        description="A camera may upload this many times its declared fps (token bucket, 1 s burst); "
                    "above it the hub answers 429. 0 turns the limit off.")
    default_camera_fps: float = Field(
        30.0, ge=0.1, le=240, description="fps assumed for a camera that does not declare one (X-Camera-Fps).")
    max_future_s: float = Field(
        5.0, gt=0, le=3600,
        description="Capture times (hub clock) more than this far ahead of the hub's clock are refused (422).")
    analysis_stale_after_s: float = Field(
        2.0, gt=0, le=600,
        description="A camera's analysis result older than this (hub receive time) is reported stale.")

    @model_validator(mode="after")
    def _tokens_beyond_loopback(self):
        # Fail fast rather than serve frames of people's homes to a LAN without a password.
        check_exposure(getattr(self, "host", "127.0.0.1"), {
            "camera_tokens": self.camera_tokens, "viewer_tokens": self.viewer_tokens,
            "worker_tokens": self.worker_tokens})
        return self
