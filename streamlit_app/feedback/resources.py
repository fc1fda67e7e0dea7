"""The feedback service (knowledge store, embedding model, LLM client) shared by every session of
the dashboard process, built on first use with ``st.cache_resource``. Only pages import this module."""

from __future__ import annotations

import hashlib

import streamlit as st

from feedback.service import FeedbackService, build_service
from feedback.settings import FeedbackSettings


def settings_key(settings: FeedbackSettings) -> str:
    """A cache key for ``settings``: its fields, with the API key only as a hash."""
    secret = hashlib.sha256(settings.openai_api_key.get_secret_value().encode()).hexdigest()[:16]
    return settings.model_dump_json(exclude={"openai_api_key"}) + secret


@st.cache_resource(show_spinner="Loading the knowledge base and the embedding model…")
def _service(key: str, _settings: FeedbackSettings) -> FeedbackService:
    return build_service(_settings)


def get_feedback_service(settings: FeedbackSettings) -> FeedbackService:
    """The process's service for ``settings`` (ingesting the knowledge base on first use if its store
    is empty). Raises what ``build_service`` raises (missing knowledge folder, bad documents)."""
    return _service(settings_key(settings), settings)
