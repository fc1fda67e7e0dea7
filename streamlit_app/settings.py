"""Dashboard settings, read from the environment (prefix ``FORMSYNC_``) and an optional ``.env``."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class DashboardSettings(BaseSettings):
    """Validated when a page starts: a bad value shows a message naming the field.

    ``FORMSYNC_HUB_URL=http://10.0.0.5:8000 streamlit run streamlit_app/app.py``
    """

    # extra="ignore": the same environment and .env carry the hub's FORMSYNC_HUB_* and the
    # tests' FORMSYNC_DATA_DIR, which are not ours to reject.
    model_config = SettingsConfigDict(env_prefix="FORMSYNC_", env_file=".env", extra="ignore", frozen=True)

    hub_url: str = Field(
        "http://127.0.0.1:8000", max_length=2048,
        description="Base URL of the hub, http(s)://host:port, without /api/v1.",
    )
    refresh_s: float = Field(
        0.1, ge=0.05, le=10.0, description="How often the live area of a page reruns, in seconds."
    )
    chart_refresh_s: float = Field(
        1.0, ge=0.2, le=60.0,
        description="How often a page's charts rerun, in seconds (slower than refresh_s: a chart costs "
                    "several times an image and a few numbers to draw).",
    )
    cameras_refresh_s: float = Field(
        0.5, ge=0.1, le=10.0, description="How often the poller re-reads GET /api/v1/cameras, in seconds."
    )
    sync_refresh_s: float = Field(
        0.2, ge=0.05, le=10.0, description="How often the poller re-reads the synchronised set, in seconds."
    )
    fetch_interval_s: float = Field(
        0.05, ge=0.0, le=5.0,
        description="Shortest time between two frame fetches of one camera, in seconds: caps the pull "
                    "at 1/this frames/s per camera (0.05 s = 20 fps, above the 10 Hz page refresh); "
                    "also between two reads of the synchronised set and its images.",
    )
    request_timeout_s: float = Field(
        2.0, gt=0, le=60.0, description="Timeout of each HTTP request to the hub, in seconds."
    )
    reconnect_max_s: float = Field(
        5.0, ge=0.5, le=300.0,
        description="Longest wait between reconnection attempts while the hub is unreachable, in seconds.",
    )
    hub_browser_url: str | None = Field(
        None, max_length=2048,
        description="The hub's base URL as the dashboard's browsers reach it, for the live view's socket "
                    "(default: hub_url; set it when the dashboard reaches the hub by another address).")
    status_refresh_s: float = Field(
        1.0, ge=0.1, le=60.0,
        description="How often the Live page's figures (fps, clock offsets, sync quality) rerun, s; its "
                    "frames do not wait on it (they come over the live view's socket).")
    grid_columns: int = Field(3, ge=1, le=6, description="Most camera tiles per row on the Live page.")
    viewer_token: SecretStr | None = Field(
        None, description="Viewer token for a hub that requires one (FORMSYNC_VIEWER_TOKEN; server/auth.py).")
    monitor_refresh_s: float = Field(
        1.0, ge=0.2, le=60.0,
        description="How often the monitor poller reads heartbeats, cameras and alerts, and the Monitor page "
                    "and alert banner rerun, in seconds.")

    @property
    def browser_hub_url(self) -> str:
        """``hub_browser_url`` or ``hub_url``."""
        return self.hub_browser_url or self.hub_url

    @field_validator("hub_url", "hub_browser_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.strip().rstrip("/")
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL such as http://127.0.0.1:8000")
        return v
