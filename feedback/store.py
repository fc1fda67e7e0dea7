"""The knowledge base's vector store: an embedded chromadb ``PersistentClient`` behind langchain-chroma.

Ingest is idempotent: every chunk's id is its citation id (``knee-tracking#3``) and its metadata
carry a SHA-256 of its text and metadata, so re-ingesting embeds only new or changed chunks and
deletes chunks whose document shrank or disappeared. The collection uses cosine distance; a chunk's
``score`` is the cosine similarity of the unit-length query and chunk vectors, in [-1, 1].
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from tqdm import tqdm

from feedback.chunking import chunk_documents
from feedback.documents import load_documents

log = logging.getLogger("formsync.feedback.store")

EMBED_BATCH = 16


@dataclass(frozen=True)
class IngestReport:
    """What one ingest did, in chunks, and how long it took (seconds)."""

    added: int
    updated: int
    unchanged: int
    deleted: int
    seconds: float

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged

    def __str__(self) -> str:
        return (
            f"{self.total} chunks: {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.deleted} deleted in {self.seconds:.1f} s"
        )


def open_client(path: Path) -> chromadb.ClientAPI:
    """An embedded chromadb client on ``path`` (created if missing), with telemetry off: chromadb's
    anonymous usage reporting would try the network, which this machine does not have."""
    Path(path).mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


class KnowledgeStore:
    """Chunks with their embeddings in one chromadb collection.

    Args:
        path: folder of the persistent store.
        embeddings: the langchain ``Embeddings`` used for chunks and queries (``MiniLMEmbeddings``).
        collection: collection name.
    """

    def __init__(self, path: Path, embeddings: Embeddings, collection: str = "formsync_knowledge") -> None:
        self.path = Path(path)
        self.embeddings = embeddings
        self.model_name = getattr(embeddings, "model_name", type(embeddings).__name__)
        self._ingest_lock = threading.Lock()
        self.vectors = Chroma(
            client=open_client(self.path),
            collection_name=collection,
            embedding_function=embeddings,
            collection_configuration={"hnsw": {"space": "cosine"}},
            collection_metadata={"embedding_model": self.model_name},
        )

    @property
    def _collection(self):
        return self.vectors._collection  # langchain-chroma exposes no public handle for count/metadata

    def count(self) -> int:
        """Chunks stored."""
        return self._collection.count()

    def stored_hashes(self) -> dict[str, str]:
        """``{chunk_id: sha256}`` of every stored chunk."""
        got = self._collection.get(include=["metadatas"])
        return {i: (m or {}).get("sha256", "") for i, m in zip(got["ids"], got["metadatas"])}

    def doc_ids(self) -> set[str]:
        """Ids of the documents that have chunks in the store."""
        return {(m or {}).get("doc_id") for m in self._collection.get(include=["metadatas"])["metadatas"]} - {
            None
        }

    def ingest(self, chunks: Sequence[Document], progress: bool = True) -> IngestReport:
        """Make the collection hold exactly ``chunks`` (ids from ``metadata["chunk_id"]``); embeds only
        new or changed ones, with a progress bar on stderr when ``progress``."""
        start = time.perf_counter()
        with self._ingest_lock:
            stored_model = (self._collection.metadata or {}).get("embedding_model")
            stored = self.stored_hashes()
            if stored and stored_model not in (None, self.model_name):
                log.warning(
                    "store was built with %s, re-embedding everything with %s", stored_model, self.model_name
                )
                self.vectors.delete(list(stored))
                stored = {}
            wanted = {c.metadata["chunk_id"]: c for c in chunks}
            todo = [c for cid, c in wanted.items() if stored.get(cid) != c.metadata["sha256"]]
            added = sum(1 for c in todo if c.metadata["chunk_id"] not in stored)
            gone = [cid for cid in stored if cid not in wanted]
            with tqdm(
                total=len(todo),
                desc="embedding chunks",
                unit="chunk",
                disable=not progress or not todo,
                leave=False,
            ) as bar:
                for i in range(0, len(todo), EMBED_BATCH):
                    batch = todo[i : i + EMBED_BATCH]
                    self.vectors.add_texts(
                        [c.page_content for c in batch],
                        metadatas=[c.metadata for c in batch],
                        ids=[c.metadata["chunk_id"] for c in batch],
                    )
                    bar.update(len(batch))
            if gone:
                self.vectors.delete(gone)
        report = IngestReport(
            added=added,
            updated=len(todo) - added,
            unchanged=len(wanted) - len(todo),
            deleted=len(gone),
            seconds=time.perf_counter() - start,
        )
        log.info("ingest into %s: %s", self.path, report)
        return report

    def ingest_folder(
        self, docs_dir: Path, chunk_size: int = 700, chunk_overlap: int = 80, progress: bool = True
    ) -> IngestReport:
        """Load, chunk and ingest every document of ``docs_dir`` (``load_documents`` errors propagate)."""
        return self.ingest(chunk_documents(load_documents(docs_dir), chunk_size, chunk_overlap), progress)

    def search(self, query: str, k: int) -> list[tuple[Document, float]]:
        """The ``k`` chunks nearest to ``query`` with their cosine similarity, best first."""
        if not query.strip():
            raise ValueError("query is empty")
        # Distances, not langchain's relevance scores: those warn when a cosine goes below 0.
        return [
            (doc, 1.0 - float(dist)) for doc, dist in self.vectors.similarity_search_with_score(query, k=k)
        ]
