"""Knowledge-base documents: Markdown files with YAML front matter.

A document ``rag_data/knee-tracking.md`` has the id ``knee-tracking`` (its file name) and starts with::

    ---
    title: Knee tracking and knee valgus
    topics: [knee valgus, knees caving in]
    faults: [knees_caving, knee_valgus]        # analysis fault codes it explains (optional)
    references:
      - "Hewett TE, et al. ... Am J Sports Med. 2005;33(4):492-501."
    ---

followed by ``## Section`` headings. The front matter is parsed with PyYAML (already a dependency);
a front-matter package would add nothing for this one fixed layout.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

DOC_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


class DocumentError(ValueError):
    """A knowledge document is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class KnowledgeDoc:
    """One document. ``body`` is the Markdown after the front matter; ``sha256`` hashes the whole file."""

    doc_id: str
    title: str
    topics: tuple[str, ...]
    faults: tuple[str, ...]
    references: tuple[str, ...]
    body: str
    path: Path
    sha256: str


def parse_document(path: Path, text: str) -> KnowledgeDoc:
    """Parse one file's text. Raises ``DocumentError`` for a bad id, missing front matter, or a
    missing/empty ``title`` or ``references`` (every fact must be traceable to a public source)."""
    doc_id = path.stem
    if not re.match(DOC_ID_PATTERN, doc_id):
        raise DocumentError(
            f"{path}: file name must be a lowercase id like 'knee-tracking' ({DOC_ID_PATTERN})"
        )
    m = _FRONT.match(text)
    if not m:
        raise DocumentError(f"{path}: no front matter (a '---' block at the top)")
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise DocumentError(f"{path}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise DocumentError(f"{path}: front matter must be a mapping")
    title = str(meta.get("title") or "").strip()
    refs = tuple(str(r).strip() for r in meta.get("references") or () if str(r).strip())
    if not title:
        raise DocumentError(f"{path}: front matter needs a title")
    if not refs:
        raise DocumentError(f"{path}: front matter needs at least one reference")
    body = text[m.end() :].strip()
    if not body:
        raise DocumentError(f"{path}: no text after the front matter")
    return KnowledgeDoc(
        doc_id=doc_id,
        title=title,
        topics=tuple(str(t) for t in meta.get("topics") or ()),
        faults=tuple(str(f) for f in meta.get("faults") or ()),
        references=refs,
        body=body,
        path=path,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def load_documents(docs_dir: Path) -> list[KnowledgeDoc]:
    """Every ``*.md`` directly in ``docs_dir`` (sub-folders such as ``eval/`` are not documents),
    sorted by id. Raises ``DocumentError`` for a malformed one, ``FileNotFoundError`` when the folder
    is missing or holds no document."""
    docs_dir = Path(docs_dir)
    if not docs_dir.is_dir():
        raise FileNotFoundError(f"knowledge folder not found: {docs_dir}")
    docs = [
        parse_document(p, p.read_text(encoding="utf-8"))
        for p in sorted(docs_dir.glob("*.md"))
        if p.name.lower() != "readme.md"
    ]
    if not docs:
        raise FileNotFoundError(f"no *.md knowledge documents in {docs_dir}")
    return docs
