"""Hub settings, read from the environment (prefix ``FORMSYNC_HUB_``) and an optional ``.env``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from formsync.ids import CAMERA_ID_PATTERN  # noqa: F401  (re-exported for the hub's routes)
from server.live.settings import LiveSettings
from server.quality.settings import QualitySettings
from server.security_settings import SecuritySettings


class HubSettings(SecuritySettings, LiveSettings, QualitySettings, BaseSettings):
    """Validated at start-up: a bad value stops the hub with a message naming the field."""

    model_config = SettingsConfigDict(
        env_prefix="FORMSYNC_HUB_", env_file=".env", extra="ignore", frozen=True
    )

    host: str = Field("127.0.0.1", description="Address to bind.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port to bind.")
    max_frame_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024,
        description="Largest JPEG body accepted, in bytes; larger uploads get 413.",
    )
    stale_after_s: float = Field(
        2.0, gt=0, le=60, description="A camera with no frame for this long is reported stale."
    )
    ring_seconds: float = Field(
        1.0, gt=0, le=10, description="How much recent history each camera keeps for synchronisation, in seconds."
    )
    ring_max_frames: int = Field(
        256, ge=2, le=4096, description="Upper bound on ring length whatever the fps (memory guard)."
    )
    sync_max_spread_ms: float = Field(
        20.0, gt=0, le=1000,
        description="Largest capture-time spread of a synchronised set, ms (default: half a frame at 25 fps).",
    )
    event_queue_size: int = Field(
        64, ge=1, le=10_000,
        description="Events buffered per subscriber; a slower subscriber loses its oldest events.",
    )
    db_path: str = Field(
        "var/formsync.db",
        description="Embedded SQLite database (set summaries, alert log); created with its folder on start.",
    )
    redis_url: str | None = Field(
        None, pattern=r"^rediss?://",
        description="`redis://host:port/db`: keep the hub's shared state in Redis so several hub processes "
                    "and machines serve the same cameras. Unset: in memory and in the SQLite database "
                    "(one hub).")
    frames_redis_url: str | None = Field(
        None, pattern=r"^rediss?://",
        description="`redis://host:port/db` for the frame rings alone (megabytes a second of JPEGs kept for "
                    "a second): a Redis run without persistence, so that frames never reach the append-only "
                    "file of the one in `redis_url` (README, *Running with Redis*). Unset: `redis_url`.")
    processes: int = Field(
        1, ge=1,
        description="Hub processes sharing this port (`fastapi_server.py --workers N` sets it): above 1, "
                    "each process's heartbeat id carries its pid so the Monitor page lists them apart.")
    # -- references (server/references) --
    reference_dir: str | None = Field(
        None,
        description="Folder of the references' per-frame data and pictures (`stored/`) and of the videos "
                    "of build jobs (`jobs/`), created on start; default `hub-references` beside the "
                    "database (`var/hub-references`). Their metadata is in the database.")
    max_reference_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, le=2 * 1024 * 1024 * 1024,
        description="Largest reference bundle a worker may upload, bytes; larger ones get 413.")
    max_video_bytes: int = Field(
        256 * 1024 * 1024, ge=1024, le=8 * 1024 * 1024 * 1024,
        description="Largest video accepted to build a reference from, bytes; larger ones get 413.")
    reference_job_lease_s: float = Field(
        60.0, ge=1, le=3600,
        description="A running build job whose worker reported nothing for this long is given to another worker, s.")
    reference_job_attempts: int = Field(
        2, ge=1, le=10,
        description="Workers a build job is given to before it fails as `worker_lost`.")
    # -- monitoring (rules and their defaults: server/monitoring/alert_rules.py) --
    heartbeat_interval_s: float = Field(
        2.0, ge=0.1, le=60, description="Period of the hub's own heartbeat (its host and process stats), s.")
    heartbeat_lost_after: int = Field(
        3, ge=1, le=100, description="A process that missed this many of its heartbeat intervals is lost.")
    monitor_interval_s: float = Field(
        1.0, ge=0.05, le=60, description="How often alert rules are evaluated, s.")
    alert_rules_file: str | None = Field(
        None, description="YAML file of alert rule overrides, `rules: {cpu_high: {threshold: 90}}`.")
    alert_rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Alert rule overrides by rule name (JSON in the environment); applied after the file.")
    log_level: str = Field("info", description="uvicorn/hub log level.")

    @model_validator(mode="after")
    def _frames_redis_needs_redis(self):
        if self.frames_redis_url is not None and self.redis_url is None:
            raise ValueError("frames_redis_url needs redis_url: frames are shared only with the rest of the state")
        return self

    @property
    def reference_root(self) -> Path:
        """``reference_dir``, or ``hub-references`` beside the database."""
        return Path(self.reference_dir) if self.reference_dir else Path(self.db_path).parent / "hub-references"
