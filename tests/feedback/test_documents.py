"""The knowledge base's documents and their chunks."""

from __future__ import annotations

import pytest

from feedback.chunking import chunk_documents, unwrap
from feedback.documents import DocumentError, load_documents, parse_document
from feedback.query import FAULTS
from tests.feedback.conftest import DOCS


@pytest.fixture(scope="module")
def docs():
    return load_documents(DOCS)


def test_every_document_has_title_topics_and_public_references(docs):
    assert len(docs) >= 10
    for d in docs:
        assert d.title and d.topics, d.doc_id
        assert d.references and all(len(r) > 30 for r in d.references), d.doc_id
    assert len({d.doc_id for d in docs}) == len(docs)


def test_the_coaching_topics_are_covered(docs):
    ids = {d.doc_id for d in docs}
    assert {
        "setup-and-stance",
        "depth",
        "knee-tracking",
        "trunk-angle",
        "heels-and-ankle-mobility",
        "bracing-and-breathing",
        "tempo",
        "bar-position",
        "drills-and-regressions",
        "safety",
    } <= ids


def test_every_analysis_fault_is_explained_by_a_document(docs):
    explained = {code for d in docs for code in d.faults}
    assert set(FAULTS) <= explained


def test_malformed_documents_are_rejected_with_the_file_named(tmp_path):
    path = tmp_path / "bad-doc.md"
    with pytest.raises(DocumentError, match="bad-doc.md.*front matter"):
        parse_document(path, "# no front matter\n")
    with pytest.raises(DocumentError, match="reference"):
        parse_document(path, "---\ntitle: T\nreferences: []\n---\nbody\n")
    with pytest.raises(DocumentError, match="title"):
        parse_document(path, '---\nreferences: ["Someone. A paper. J Sci. 2020;1:1-2."]\n---\nbody\n')
    with pytest.raises(DocumentError, match="lowercase id"):
        parse_document(tmp_path / "Bad Name.md", "---\ntitle: T\n---\nbody\n")


def test_unwrap_puts_each_item_and_paragraph_on_one_line():
    text = "## Causes\nIntro line\ncontinues.\n\n- first item\n  wraps here\n- second\n"
    assert unwrap(text).splitlines() == [
        "## Causes",
        "Intro line continues.",
        "",
        "- first item wraps here",
        "- second",
    ]


def test_chunks_have_stable_sequential_ids_and_bounded_size(docs):
    chunks = chunk_documents(docs, chunk_size=700, chunk_overlap=80)
    ids = [c.metadata["chunk_id"] for c in chunks]
    assert len(ids) == len(set(ids))
    for d in docs:
        numbers = [c.metadata["chunk"] for c in chunks if c.metadata["doc_id"] == d.doc_id]
        assert numbers == list(range(1, len(numbers) + 1))
    for c in chunks:
        title_line, body = c.page_content.split("\n", 1)
        assert title_line.startswith(c.metadata["title"] + " — ")
        assert len(body) <= 700
    assert chunk_documents(docs) == chunks  # deterministic: same ids and hashes on every run


def test_small_chunks_split_long_sections(docs):
    small = chunk_documents(docs[:1], chunk_size=200, chunk_overlap=20)
    assert len(small) > len(chunk_documents(docs[:1]))
    assert all(len(c.page_content.split("\n", 1)[1]) <= 200 for c in small)
    with pytest.raises(ValueError, match="chunk_overlap"):
        chunk_documents(docs, chunk_size=100, chunk_overlap=100)
