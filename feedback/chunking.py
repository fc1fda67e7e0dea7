"""Split knowledge documents into retrievable chunks with stable ids ``doc-id#n``.

Each ``## Section`` becomes one chunk (``MarkdownHeaderTextSplitter``) unless it is longer than
``chunk_size`` characters, when ``RecursiveCharacterTextSplitter`` cuts it at paragraph, line or
sentence breaks. A chunk's text starts with ``Title — Section`` so that a chunk read alone (by the
embedding model or in a prompt) still says what it is about.

The documents are hard-wrapped; they are unwrapped first so that in a chunk every line is one whole
list item (``- ...``) or one whole paragraph, which is what ``composer`` reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from langchain_core.documents import Document
from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from feedback.documents import KnowledgeDoc

# Split at item/paragraph ends (one per line after unwrap) before sentence breaks.
_SEPARATORS = ["\n", ". ", " ", ""]


def unwrap(markdown: str) -> str:
    """Join hard-wrapped lines: each paragraph, list item and heading ends up on one line."""
    out: list[str] = []
    for line in markdown.splitlines():
        stripped = line.strip()
        starts_block = (
            not stripped
            or stripped.startswith(("#", "- ", "* ", "|", "```"))
            or stripped[:3].rstrip(".").isdigit()
        )
        if out and out[-1] and not starts_block and not out[-1].startswith("#"):
            out[-1] += " " + stripped
        else:
            out.append(stripped)
    return "\n".join(out)


def chunk_id(doc_id: str, n: int) -> str:
    """The citation id of chunk ``n`` (1-based) of a document: ``knee-tracking#3``."""
    return f"{doc_id}#{n}"


def chunk_documents(
    docs: Iterable[KnowledgeDoc], chunk_size: int = 700, chunk_overlap: int = 80
) -> list[Document]:
    """All chunks of ``docs`` in order, as langchain ``Document``s whose metadata are
    ``chunk_id, doc_id, chunk (1-based int), title, section, references`` (joined by newlines,
    chromadb takes scalars only), ``sha256`` (of text + metadata, for idempotent ingest).
    Raises ``ValueError`` when ``chunk_overlap >= chunk_size``."""
    if chunk_overlap >= chunk_size:
        raise ValueError(f"chunk_overlap ({chunk_overlap}) must be smaller than chunk_size ({chunk_size})")
    by_header = MarkdownHeaderTextSplitter([("#", "h1"), ("##", "section")], strip_headers=True)
    by_size = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=chunk_overlap, separators=_SEPARATORS, keep_separator="start"
    )
    out: list[Document] = []
    for doc in docs:
        n = 0
        for part in by_header.split_text(unwrap(doc.body)):
            section = part.metadata.get("section") or part.metadata.get("h1") or doc.title
            # The header splitter marks paragraph ends with a Markdown hard break ("  \n").
            for piece in by_size.split_text(part.page_content.replace("  \n", "\n")):
                piece = piece.strip()
                if not piece:
                    continue
                n += 1
                text = f"{doc.title} — {section}\n{piece}"
                meta = {
                    "chunk_id": chunk_id(doc.doc_id, n),
                    "doc_id": doc.doc_id,
                    "chunk": n,
                    "title": doc.title,
                    "section": section,
                    "references": "\n".join(doc.references),
                    "faults": ",".join(doc.faults),
                }
                meta["sha256"] = hashlib.sha256(repr((text, sorted(meta.items()))).encode()).hexdigest()
                out.append(Document(page_content=text, metadata=meta, id=meta["chunk_id"]))
    return out
