"""Shared fixtures: the real embedding model (loaded once), a knowledge store ingested once per
test session into a temporary chromadb, the example set summaries, and feedback settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feedback.embeddings import MiniLMEmbeddings
from feedback.retriever import KnowledgeRetriever
from feedback.settings import FeedbackSettings
from feedback.store import KnowledgeStore
from feedback.summary import SetSummary, load_summary

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "rag_data"
SETS = DOCS / "eval" / "sets"


@pytest.fixture(scope="session")
def embeddings() -> MiniLMEmbeddings:
    emb = MiniLMEmbeddings()
    emb.embed_query("warm-up")  # loads the model once for the whole session
    return emb


@pytest.fixture(scope="session")
def store_path(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("chroma")


@pytest.fixture(scope="session")
def knowledge_store(embeddings, store_path) -> KnowledgeStore:
    store = KnowledgeStore(store_path, embeddings)
    store.ingest_folder(DOCS, progress=False)
    return store


@pytest.fixture(scope="session")
def retriever(knowledge_store) -> KnowledgeRetriever:
    return KnowledgeRetriever(store=knowledge_store, k=6)


@pytest.fixture
def settings(store_path, knowledge_store) -> FeedbackSettings:
    """Offline settings on the session's ingested store, with quick retries for tests."""
    return FeedbackSettings(store_path=store_path, provider="offline", timeout_s=0.5, backoff_initial_s=0.05)


def example_set(name: str) -> SetSummary:
    """One of rag_data/eval/sets/*.json (see its README for where each comes from)."""
    return load_summary(json.loads((SETS / f"{name}.json").read_text()))


@pytest.fixture
def knees_set() -> SetSummary:
    return example_set("constructed_front_knees_caving")


@pytest.fixture
def depth_set() -> SetSummary:
    return example_set("real_side_bodyweight_intellifit1")


@pytest.fixture
def clean_set() -> SetSummary:
    return example_set("real_front_barbell_liftcheck")
