"""Feedback settings, read from the environment (prefix ``FORMSYNC_FEEDBACK_``) and an optional ``.env``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

Provider = Literal["offline", "openai", "ollama"]


class FeedbackSettings(BaseSettings):
    """Validated when first used: a bad value raises ``pydantic.ValidationError`` naming the field.

    ``FORMSYNC_FEEDBACK_PROVIDER=openai FORMSYNC_FEEDBACK_OPENAI_BASE_URL=http://127.0.0.1:8080/v1
    FORMSYNC_FEEDBACK_OPENAI_MODEL=qwen2.5-7b-instruct python -m feedback summary-feedback set.json``
    """

    # extra="ignore": the same environment and .env carry the hub's and the dashboard's settings.
    model_config = SettingsConfigDict(
        env_prefix="FORMSYNC_FEEDBACK_", env_file=".env", extra="ignore", frozen=True
    )

    docs_dir: Path = Field(
        ROOT / "rag_data", description="Folder of the knowledge base's Markdown documents."
    )
    store_path: Path = Field(
        ROOT / "var" / "chroma",
        description="Folder of the embedded chromadb store (created on first ingest).",
    )
    collection: str = Field(
        "formsync_knowledge",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$",
        description="chromadb collection name.",
    )
    chunk_size: int = Field(
        700,
        ge=200,
        le=4000,
        description="Largest chunk, in characters (all-MiniLM-L6-v2 reads ~256 word pieces, "
        "about 1000 characters of English).",
    )
    chunk_overlap: int = Field(80, ge=0, le=1000, description="Characters shared by neighbouring chunks.")
    top_k: int = Field(5, ge=1, le=20, description="Chunks retrieved per question.")

    provider: Provider = Field(
        "offline",
        description="Who writes the feedback: the offline grounded "
        "composer, an OpenAI-compatible server, or Ollama.",
    )
    openai_base_url: str = Field(
        "https://api.openai.com/v1",
        max_length=2048,
        description="Base URL of an OpenAI-compatible chat-completions server "
        "(OpenAI, vLLM, llama.cpp server, LM Studio), ending in /v1.",
    )
    openai_model: str = Field(
        "gpt-4o-mini", min_length=1, max_length=200, description="Model name to ask for."
    )
    openai_api_key: SecretStr = Field(SecretStr(""), description="API key; local servers usually accept any.")
    ollama_base_url: str = Field("http://127.0.0.1:11434", max_length=2048, description="Ollama server URL.")
    ollama_model: str = Field("llama3.2", min_length=1, max_length=200, description="Ollama model name.")
    temperature: float = Field(0.2, ge=0.0, le=2.0, description="Sampling temperature of the LLM.")
    max_tokens: int = Field(600, ge=16, le=8192, description="Longest answer, in tokens.")

    timeout_s: float = Field(
        5.0,
        gt=0,
        le=120,
        description="Per attempt: the longest wait for the server to "
        "start answering, and for each next piece.",
    )
    max_retries: int = Field(2, ge=0, le=10, description="Retries after a failed attempt (so 3 attempts).")
    backoff_initial_s: float = Field(0.5, ge=0, le=30, description="Wait before the first retry, in seconds.")
    backoff_factor: float = Field(1.5, ge=1.0, le=10, description="Each further wait is this times the last.")

    max_input_chars: int = Field(
        2000, ge=1, le=100_000, description="Longest follow-up question, characters."
    )
    requests_per_minute: int = Field(
        10, ge=1, le=10_000, description="Feedback and follow-up requests allowed per session per minute."
    )
    history_turns: int = Field(
        10, ge=1, le=100, description="Follow-up turns (question + answer) kept and sent as context."
    )

    @field_validator("openai_base_url", "ollama_base_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return v
