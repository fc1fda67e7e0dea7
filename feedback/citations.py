"""Inline citations ``[doc-id#n]``: finding them, and keeping only those that point to retrieved chunks.

An LLM may invent a source id or cite a chunk it was not given. ``CitationFilter`` sits on the
token stream and drops every citation whose id is not in the retrieved set, so the user never sees a
citation that the sources beside the answer cannot back. It buffers only from a ``[`` to its ``]``
(at most ``MAX_BRACKET`` characters), so streaming stays token by token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

CITATION_ID = r"[a-z0-9][a-z0-9-]*#\d+"
_ID = re.compile(rf"^{CITATION_ID}$")
_BRACKET = re.compile(rf"\[\s*({CITATION_ID}(?:\s*[,;]\s*{CITATION_ID})*)\s*\]")
MAX_BRACKET = 120


def cited_ids(text: str) -> list[str]:
    """Every cited chunk id in ``text``, in order of first appearance, without repeats."""
    out: list[str] = []
    for m in _BRACKET.finditer(text):
        for cid in re.split(r"\s*[,;]\s*", m.group(1)):
            if cid not in out:
                out.append(cid)
    return out


class CitationFilter:
    """Feed text pieces in with ``feed``, read the cleaned text back; call ``flush`` at the end.

    ``dropped`` lists the ids removed. Brackets that are not citations (``[1]``, ``[note]``) pass
    through untouched.
    """

    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = set(allowed)
        self.dropped: list[str] = []
        self._pending = ""

    def _resolve(self, bracket: str) -> str:
        inner = bracket[1:-1].strip()
        ids = re.split(r"\s*[,;]\s*", inner)
        if not ids or not all(_ID.match(i) for i in ids):
            return bracket
        kept = [i for i in ids if i in self.allowed]
        self.dropped += [i for i in ids if i not in self.allowed]
        return f"[{', '.join(kept)}]" if kept else ""

    def feed(self, piece: str) -> str:
        out = []
        for ch in piece:
            if self._pending:
                self._pending += ch
                if ch == "]":
                    out.append(self._resolve(self._pending))
                    self._pending = ""
                elif ch == "[" or ch == "\n" or len(self._pending) > MAX_BRACKET:
                    # Not a citation after all: release what was held, restart on a new "[".
                    held, self._pending = self._pending[:-1], ("[" if ch == "[" else "")
                    out.append(held + ("" if ch == "[" else ch))
            elif ch == "[":
                self._pending = ch
            else:
                out.append(ch)
        return "".join(out)

    def flush(self) -> str:
        held, self._pending = self._pending, ""
        return held

    def filter(self, pieces: Iterable[str]) -> Iterator[str]:
        """Filter a whole stream of pieces, yielding non-empty cleaned pieces."""
        for piece in pieces:
            text = self.feed(piece)
            if text:
                yield text
        tail = self.flush()
        if tail:
            yield tail
