"""Adaptive quality's settings, mixed into ``HubSettings`` (``FORMSYNC_HUB_QUALITY_*``); their
defaults and where they come from: ``server/quality/policy.py``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings

from server.quality.policy import DEFAULT_TIERS, QualityPolicy, Tier

_D = QualityPolicy()


class TierIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_fps: float = Field(ge=0, le=240)
    width: int = Field(ge=16, le=8192)
    jpeg_quality: int = Field(ge=1, le=100)


class QualitySettings(BaseSettings):
    quality_adaptive: bool = Field(
        True, description="Tell each camera a target fps, width and JPEG quality in its upload answers, lowered "
                          "when analysis, ingest or the hub's CPU falls behind. Off: cameras send as configured.")
    quality_tiers: tuple[TierIn, ...] = Field(
        tuple(TierIn(min_fps=t.min_fps, width=t.width, jpeg_quality=t.jpeg_quality) for t in DEFAULT_TIERS),
        min_length=1, max_length=16,
        description='Tier table, best first, as JSON: `[{"min_fps": 24, "width": 1920, "jpeg_quality": 80}, ...]`; '
                    "min_fps decreasing, the last one's 0.")
    quality_min_fps: float = Field(_D.min_fps, ge=0.1, le=240, description="Lowest target fps.")
    quality_max_fps: float = Field(_D.max_fps, ge=0.1, le=240,
                                   description="Highest target fps (a camera's own rate caps it too).")
    quality_decrease_factor: float = Field(_D.decrease_factor, gt=0, lt=1,
                                           description="Multiplicative decrease of the target fps under pressure.")
    quality_increase_fps: float = Field(_D.increase_fps, gt=0, le=60,
                                        description="Additive increase per settle time with headroom, fps.")
    quality_settle_s: float = Field(_D.settle_s, ge=0.2, le=60,
                                    description="Time a change is given to show before the next, s.")
    quality_window_s: float = Field(_D.window_s, ge=0.5, le=60,
                                    description="History the skip share and latency p95 cover, s.")
    quality_interval_s: float = Field(1.0, ge=0.1, le=10, description="Period of the controller, s.")
    quality_skipped_high: float = Field(_D.skipped_high, ge=0, le=1,
                                        description="Share of frames analysis skips above which the target drops.")
    quality_skipped_low: float = Field(_D.skipped_low, ge=0, le=1, description="...below which it may grow.")
    quality_ingest_latency_high_ms: float = Field(_D.ingest_latency_high_ms, gt=0, le=60_000,
                                                  description="Capture-to-hub p95 above which the target drops, ms.")
    quality_ingest_latency_low_ms: float = Field(_D.ingest_latency_low_ms, gt=0, le=60_000,
                                                 description="...below which it may grow, ms.")
    quality_cpu_high_percent: float = Field(_D.cpu_high_percent, gt=0, le=100,
                                            description="Host CPU above which the target drops, %.")
    quality_cpu_low_percent: float = Field(_D.cpu_low_percent, ge=0, le=100,
                                           description="...below which it may grow, %.")

    @model_validator(mode="after")
    def _consistent(self):
        try:
            self.quality_policy()
        except ValueError as exc:
            raise ValueError(f"quality settings: {exc}") from None
        return self

    def quality_policy(self) -> QualityPolicy:
        """Raises ValueError when the bounds contradict each other (``QualityPolicy``)."""
        return QualityPolicy(
            tiers=tuple(Tier(t.min_fps, t.width, t.jpeg_quality) for t in self.quality_tiers),
            min_fps=self.quality_min_fps, max_fps=self.quality_max_fps,
            decrease_factor=self.quality_decrease_factor, increase_fps=self.quality_increase_fps,
            settle_s=self.quality_settle_s, window_s=self.quality_window_s,
            skipped_high=self.quality_skipped_high, skipped_low=self.quality_skipped_low,
            ingest_latency_high_ms=self.quality_ingest_latency_high_ms,
            ingest_latency_low_ms=self.quality_ingest_latency_low_ms,
            cpu_high_percent=self.quality_cpu_high_percent, cpu_low_percent=self.quality_cpu_low_percent)
