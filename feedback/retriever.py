"""Top-k retrieval of knowledge chunks, as plain records and as a langchain ``BaseRetriever``."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from feedback.store import KnowledgeStore


@dataclass(frozen=True)
class RetrievedChunk:
    """One retrieved chunk. ``score``: cosine similarity to the query in [-1, 1], higher is closer."""

    chunk_id: str
    doc_id: str
    chunk: int
    score: float
    title: str
    section: str
    text: str
    references: tuple[str, ...]
    faults: tuple[str, ...] = ()

    @classmethod
    def from_document(cls, doc: Document) -> RetrievedChunk:
        m = doc.metadata
        return cls(
            chunk_id=m["chunk_id"],
            doc_id=m["doc_id"],
            chunk=int(m["chunk"]),
            score=round(float(m.get("score", 0.0)), 4),
            title=m.get("title", ""),
            section=m.get("section", ""),
            text=doc.page_content,
            references=tuple(r for r in m.get("references", "").split("\n") if r),
            faults=tuple(f for f in m.get("faults", "").split(",") if f),
        )

    @property
    def body(self) -> str:
        """The chunk's text without its ``Title — Section`` first line."""
        return self.text.split("\n", 1)[1] if "\n" in self.text else self.text

    def to_dict(self) -> dict:
        d = asdict(self)
        d["references"] = list(self.references)
        d["faults"] = list(self.faults)
        return d


class KnowledgeRetriever(BaseRetriever):
    """``invoke(query) -> list[Document]``, best first, each with ``metadata["score"]`` (cosine
    similarity) next to the chunk's stored metadata (``chunk_id``, ``doc_id``, ``section``...)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: KnowledgeStore
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [
            Document(
                page_content=doc.page_content,
                id=doc.metadata.get("chunk_id"),
                metadata={**doc.metadata, "score": score},
            )
            for doc, score in self.store.search(query, self.k)
        ]

    def retrieve(self, query: str) -> list[RetrievedChunk]:
        """Like ``invoke`` but as ``RetrievedChunk`` records."""
        return [RetrievedChunk.from_document(d) for d in self.invoke(query)]
