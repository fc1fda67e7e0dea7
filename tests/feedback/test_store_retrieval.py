"""Ingest into a temporary chromadb with the real embedding model, and retrieval on known queries."""

from __future__ import annotations

import logging
import math
import shutil

import pytest

from feedback.embeddings import DIMENSIONS
from feedback.retriever import KnowledgeRetriever
from feedback.service import build_service
from feedback.settings import FeedbackSettings
from feedback.store import KnowledgeStore
from tests.feedback.conftest import DOCS


def test_embeddings_are_unit_vectors_that_rank_meaning(embeddings):
    q, near, far = embeddings.embed_documents(
        ["knees caving in", "knee valgus during a squat", "bar on the neck"]
    )
    assert len(q) == DIMENSIONS
    assert math.isclose(sum(v * v for v in q), 1.0, rel_tol=1e-4)
    dot = lambda a, b: sum(x * y for x, y in zip(a, b))
    assert dot(q, near) > dot(q, far)


def test_reingest_is_idempotent_and_tracks_edits(embeddings, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("tempo.md", "asymmetry.md"):
        shutil.copy(DOCS / name, docs / name)
    store = KnowledgeStore(tmp_path / "store", embeddings)
    first = store.ingest_folder(docs, progress=False)
    assert first.added == first.total == store.count() > 0 and first.updated == first.deleted == 0

    again = KnowledgeStore(tmp_path / "store", embeddings).ingest_folder(docs, progress=False)
    assert (again.added, again.updated, again.deleted, again.unchanged) == (0, 0, 0, first.total)

    tempo = docs / "tempo.md"
    tempo.write_text(tempo.read_text().replace("Down for two, up with intent.", "Two down, one up."))
    edited = store.ingest_folder(docs, progress=False)
    assert (edited.added, edited.updated, edited.deleted) == (0, 1, 0)
    hit = store.search("Two down, one up.", 1)[0][0]
    assert "Two down, one up." in hit.page_content

    asymmetry_chunks = sum(cid.startswith("asymmetry#") for cid in store.stored_hashes())
    (docs / "asymmetry.md").unlink()
    removed = store.ingest_folder(docs, progress=False)
    assert (
        asymmetry_chunks > 0 and removed.deleted == asymmetry_chunks and removed.added == removed.updated == 0
    )
    assert all(cid.startswith("tempo#") for cid in store.stored_hashes())


@pytest.mark.parametrize(
    ("query", "doc"),
    [
        ("why do my knees cave in", "knee-tracking"),
        ("my heels lift off the floor at the bottom", "heels-and-ankle-mobility"),
        ("how should I breathe and brace during a heavy squat", "bracing-and-breathing"),
        ("what does my score out of 100 mean", "formsync-measurements"),
        ("I felt a sharp pain in my knee, should I stop", "safety"),
    ],
)
def test_known_queries_find_their_document(retriever, query, doc):
    chunks = retriever.retrieve(query)
    assert doc in [c.doc_id for c in chunks[:3]], [c.chunk_id for c in chunks]
    scores = [c.score for c in chunks]
    assert scores == sorted(scores, reverse=True) and all(-1 <= s <= 1 for s in scores)
    assert all(c.chunk_id == f"{c.doc_id}#{c.chunk}" and c.references for c in chunks)


def test_retriever_is_a_langchain_retriever_with_scores(knowledge_store):
    docs = KnowledgeRetriever(store=knowledge_store, k=3).invoke("box squat to a bench")
    assert len(docs) == 3
    assert all({"chunk_id", "doc_id", "section", "score", "sha256"} <= set(d.metadata) for d in docs)


def test_empty_query_is_refused(knowledge_store):
    with pytest.raises(ValueError, match="empty"):
        knowledge_store.search("  ", 3)


def test_an_empty_store_is_ingested_on_first_use_and_says_so(embeddings, tmp_path, caplog):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(DOCS / "tempo.md", docs / "tempo.md")
    settings = FeedbackSettings(store_path=tmp_path / "store", docs_dir=docs, provider="offline")
    with caplog.at_level(logging.WARNING, logger="formsync.feedback"):
        service = build_service(settings)
    assert service.store.count() > 0 and service.llm is None
    assert any("is empty: ingesting" in r.getMessage() for r in caplog.records)
    caplog.clear()
    build_service(settings)  # second use: nothing to do, nothing said
    assert not any("ingesting" in r.getMessage() for r in caplog.records)
