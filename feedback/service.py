"""Wiring from settings: the knowledge store (ingested on first use), retriever, LLM and chain.

Nothing here runs at import; callers (the CLI, the dashboard's ``st.cache_resource``) decide when.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable

from feedback.chain import build_feedback_chain
from feedback.embeddings import MiniLMEmbeddings
from feedback.providers import RetryPolicy, describe_provider, make_llm
from feedback.retriever import KnowledgeRetriever
from feedback.settings import FeedbackSettings
from feedback.store import IngestReport, KnowledgeStore

log = logging.getLogger("formsync.feedback")


def open_store(settings: FeedbackSettings) -> KnowledgeStore:
    return KnowledgeStore(settings.store_path, MiniLMEmbeddings(), settings.collection)


def ingest(settings: FeedbackSettings, progress: bool = True) -> IngestReport:
    """``python -m feedback ingest``: make the store match ``settings.docs_dir``."""
    return open_store(settings).ingest_folder(
        settings.docs_dir, settings.chunk_size, settings.chunk_overlap, progress
    )


def ensure_ingested(store: KnowledgeStore, settings: FeedbackSettings) -> IngestReport | None:
    """Ingest when the collection is empty (first use of a fresh store), so the demo needs no manual
    step; ``None`` when it already holds chunks."""
    if store.count() > 0:
        return None
    # A warning so it shows at default log levels: the first request waits for it (~10-20 s on CPU).
    log.warning("knowledge store %s is empty: ingesting %s now (first use)", store.path, settings.docs_dir)
    return store.ingest_folder(settings.docs_dir, settings.chunk_size, settings.chunk_overlap, progress=False)


@dataclass
class FeedbackService:
    """Everything the chain needs, built once per process."""

    settings: FeedbackSettings
    store: KnowledgeStore
    retriever: KnowledgeRetriever
    llm: BaseChatModel | None

    @property
    def provider(self) -> str:
        """Who writes the feedback, for the page and the log."""
        if self.llm is None:
            return describe_provider(self.settings.model_copy(update={"provider": "offline"}))
        if self.settings.provider != "offline":
            return describe_provider(self.settings)
        return type(self.llm).__name__

    def chain(self) -> Runnable:
        return build_feedback_chain(
            self.retriever,
            self.llm,
            policy=RetryPolicy.from_settings(self.settings),
            history_turns=self.settings.history_turns,
            k=self.settings.top_k,
        )


def build_service(
    settings: FeedbackSettings | None = None, llm: BaseChatModel | None = None, use_settings_llm: bool = True
) -> FeedbackService:
    """Open the store (ingesting on first use) and the configured LLM. Pass ``llm`` to override it
    (tests); ``use_settings_llm=False`` forces the offline composer."""
    settings = settings or FeedbackSettings()
    store = open_store(settings)
    ensure_ingested(store, settings)
    if llm is not None:
        log.info("feedback provider: %s given by the caller", type(llm).__name__)
    elif use_settings_llm:
        llm = make_llm(settings)
        log.info("feedback provider: %s", describe_provider(settings))
    else:
        log.info("feedback provider: offline grounded composer")
    return FeedbackService(settings, store, KnowledgeRetriever(store=store, k=settings.top_k), llm)
