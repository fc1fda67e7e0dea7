"""Camera and client configuration: command-line ``--camera id=source`` pairs or a YAML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from formsync.auth import CAMERA_TOKEN_ENV, token_from_env
from formsync.ids import CAMERA_ID_PATTERN


class ConfigError(ValueError):
    """A camera list or option that cannot be used; the message names the problem."""


class CameraConfig(BaseModel):
    """One camera. ``source`` is a device index (``"0"``), a video file path or a stream URL."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    camera_id: str = Field(pattern=CAMERA_ID_PATTERN, description="Camera id sent to the hub.")
    source: str = Field(min_length=1, description="Device index, video file path, or rtsp:// / http:// URL.")
    fps: float | None = Field(None, gt=0, le=240, description="Target fps; capped at the source's fps.")
    jpeg_quality: int = Field(80, ge=1, le=100, description="JPEG quality, 1-100.")
    max_width: int | None = Field(960, ge=16, le=8192, description="Downscale wider frames to this width, px.")
    loop: bool = Field(True, description="Replay a video file from the start when it ends.")
    source_timeout_s: float = Field(
        5.0, ge=0.5, le=120,
        description="A stream source (rtsp://, http://) that opens or delivers nothing this long is "
                    "reopened with backoff, s (FFmpeg's open and read timeouts).")


class ClientConfig(BaseModel):
    """Everything one ``webcam_client.py`` process runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hub_url: str = Field("http://127.0.0.1:8000", pattern=r"^https?://", description="Hub base URL.")
    fallback_hub_urls: tuple[Annotated[str, Field(pattern=r"^https?://")], ...] = Field(
        (), max_length=16,
        description="More hubs sharing the same state (Redis): a camera whose hub is unreachable moves to "
                    "the next one at once, and backs off only when none answers.")
    transport: Literal["http", "ws"] = Field("http", description="HTTP POST per frame, or one WebSocket.")
    status_interval_s: float = Field(5.0, gt=0, le=3600, description="Seconds between status lines.")
    heartbeat_interval_s: float = Field(2.0, ge=0.1, le=60,
                                        description="Seconds between heartbeats to the hub (monitoring).")
    upload_timeout_s: float = Field(5.0, gt=0, le=120, description="Timeout for one upload, s.")
    retry_max_s: float = Field(
        2.0, ge=0.1, le=60,
        description="Longest wait between upload retries while the hub is unreachable, s: uploads resume "
                    "within this long of the hub's return.")
    token: SecretStr | None = Field(
        default_factory=lambda: token_from_env(CAMERA_TOKEN_ENV),
        description="Camera token sent to the hub (default: the FORMSYNC_CAMERA_TOKEN environment variable).")
    resync_interval_s: float = Field(30.0, gt=0, le=3600, description="Seconds between clock re-synchronisations.")
    time_burst: int = Field(16, ge=1, le=64, description="NTP exchanges per synchronisation burst.")
    clock_offset_ms: float = Field(0.0, ge=-86_400_000, le=86_400_000,
                                   description="Testing: shift this client's clock by this much, ms.")
    start_at_ns: int | None = Field(None, ge=0, description="Hub time (ns) at which file sources show frame 0.")
    net_delay_ms: float = Field(0.0, ge=0, le=10_000,
                                description="Testing: random extra delay per direction of each exchange, 0..N ms.")
    cameras: tuple[CameraConfig, ...] = Field(min_length=1)

    @property
    def hub_urls(self) -> tuple[str, ...]:
        """``hub_url`` then the fallbacks, each once, in order."""
        return tuple(dict.fromkeys((self.hub_url, *self.fallback_hub_urls)))


def parse_camera_arg(text: str) -> tuple[str, str]:
    """``"front=0"`` -> ``("front", "0")``. Raises ConfigError without an ``=``."""
    camera_id, sep, source = text.partition("=")
    if not sep or not camera_id or not source:
        raise ConfigError(f"--camera takes ID=SOURCE (e.g. front=0 or side=clip.mp4), got {text!r}")
    return camera_id.strip(), source.strip()


def load_yaml(path: Path) -> dict:
    """Read a camera list file::

        hub_url: http://127.0.0.1:8000
        fallback_hub_urls: [http://127.0.0.1:8001]   # optional: hubs sharing the state in Redis
        transport: http
        cameras:
          - {camera_id: front, source: 0}
          - {camera_id: side, source: clips/side.mp4, fps: 15}

    Relative file sources are taken relative to the YAML file. Raises ConfigError.
    """
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read camera file {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cameras"), list):
        raise ConfigError(f"{path}: expected a mapping with a 'cameras' list")
    base = Path(path).resolve().parent
    cams = []
    for cam in data["cameras"]:
        if isinstance(cam, dict) and "source" in cam:
            src = str(cam["source"])
            if not src.isdigit() and "://" not in src and not Path(src).is_absolute():
                src = str(base / src)
            cam = {**cam, "source": src}
        cams.append(cam)
    return {**data, "cameras": cams}


def build_config(fields: dict) -> ClientConfig:
    """Validate a client config; raises ConfigError with pydantic's field-by-field message."""
    try:
        config = ClientConfig.model_validate(fields)
    except ValidationError as exc:
        raise ConfigError(str(exc)) from None
    ids = [c.camera_id for c in config.cameras]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"camera ids must be unique, got {ids}")
    return config
