"""``python -m feedback evaluate``: retrieval quality and feedback latency.

Retrieval: for every question of ``rag_data/eval/questions.yaml`` (question -> the document that
should answer it), hit@1 = the top chunk comes from that document, hit@3 = one of the top three
does; latency per retrieval (query embedding + vector search), p50/p95 in ms.
Offline feedback: the whole chain (query, retrieval, composer) on the example sets in
``rag_data/eval/sets/``, p50/p95 in ms. With an LLM configured (``FORMSYNC_FEEDBACK_PROVIDER``),
also the time from request to the first answer token, after one warm-up request so a model's
load time is excluded. Targets: hit@3 >= 0.9, offline feedback < 300 ms, first token < 2 s.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from feedback.service import FeedbackService
from feedback.summary import SetSummary, load_summary


@dataclass(frozen=True)
class Question:
    q: str
    doc: str


@dataclass
class EvalReport:
    questions: int = 0
    hit1: float = 0.0
    hit3: float = 0.0
    retrieval_ms: list[float] = field(default_factory=list)
    offline_ms: list[float] = field(default_factory=list)
    first_token_ms: list[float] = field(default_factory=list)
    misses: list[dict] = field(default_factory=list)

    @staticmethod
    def pct(values: list[float], p: float) -> float | None:
        return round(float(np.percentile(values, p)), 1) if values else None

    def to_dict(self) -> dict:
        return {
            "questions": self.questions,
            "hit@1": round(self.hit1, 3),
            "hit@3": round(self.hit3, 3),
            "retrieval_ms": {"p50": self.pct(self.retrieval_ms, 50), "p95": self.pct(self.retrieval_ms, 95)},
            "offline_feedback_ms": {
                "p50": self.pct(self.offline_ms, 50),
                "p95": self.pct(self.offline_ms, 95),
                "runs": len(self.offline_ms),
            },
            "first_token_ms": {
                "p50": self.pct(self.first_token_ms, 50),
                "p95": self.pct(self.first_token_ms, 95),
                "runs": len(self.first_token_ms),
            },
            "misses_at_3": self.misses,
        }


def load_questions(path: Path) -> list[Question]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return [Question(str(item["q"]), str(item["doc"])) for item in data["questions"]]


def load_sets(folder: Path) -> list[SetSummary]:
    return [
        load_summary(json.loads(p.read_text(encoding="utf-8"))) for p in sorted(Path(folder).glob("*.json"))
    ]


def evaluate(
    service: FeedbackService, questions: list[Question], sets: list[SetSummary], repeats: int = 5
) -> EvalReport:
    """Run the evaluation described in the module doc. Raises ``ValueError`` when a question names a
    document the store does not hold."""
    unknown = sorted({q.doc for q in questions} - service.store.doc_ids())
    if unknown:
        raise ValueError(f"questions name documents that are not in the store: {unknown}")
    report = EvalReport(questions=len(questions))
    service.retriever.retrieve("warm-up")  # first call loads the model; not a retrieval latency
    hits1 = hits3 = 0
    for q in questions:
        t = time.perf_counter()
        chunks = service.retriever.retrieve(q.q)
        report.retrieval_ms.append((time.perf_counter() - t) * 1e3)
        docs = [c.doc_id for c in chunks]
        hits1 += docs[:1] == [q.doc]
        hits3 += q.doc in docs[:3]
        if q.doc not in docs[:3]:
            report.misses.append({"q": q.q, "expected": q.doc, "got": [c.chunk_id for c in chunks[:3]]})
    report.hit1, report.hit3 = hits1 / len(questions), hits3 / len(questions)

    offline = (
        service.chain()
        if service.llm is None
        else FeedbackService(service.settings, service.store, service.retriever, None).chain()
    )
    for _ in range(repeats):
        for s in sets:
            t = time.perf_counter()
            offline.invoke({"summary": s})
            report.offline_ms.append((time.perf_counter() - t) * 1e3)

    if service.llm is not None and sets:
        chain = service.chain()
        for i in range(repeats + 1):
            t = time.perf_counter()
            for part in chain.stream({"summary": sets[i % len(sets)]}):
                if part.get("answer"):
                    if i:  # the first request is the warm-up (model load on the server)
                        report.first_token_ms.append((time.perf_counter() - t) * 1e3)
                    break
    return report


def format_report(r: EvalReport, provider: str) -> str:
    d = r.to_dict()
    lines = [
        f"retrieval: {r.questions} questions, hit@1 {d['hit@1']:.3f}, hit@3 {d['hit@3']:.3f} (target >= 0.9)",
        f"retrieval latency: p50 {d['retrieval_ms']['p50']} ms, p95 {d['retrieval_ms']['p95']} ms",
        f"offline feedback (query + retrieval + composer): p50 {d['offline_feedback_ms']['p50']} ms, "
        f"p95 {d['offline_feedback_ms']['p95']} ms over {d['offline_feedback_ms']['runs']} runs "
        "(target < 300 ms)",
    ]
    if r.first_token_ms:
        lines.append(
            f"first token from {provider}: p50 {d['first_token_ms']['p50']} ms, "
            f"p95 {d['first_token_ms']['p95']} ms (target < 2000 ms)"
        )
    else:
        lines.append(
            "first token: not measured (offline provider; set FORMSYNC_FEEDBACK_PROVIDER to measure an LLM)"
        )
    lines += [f"miss@3: {m['q']!r} expected {m['expected']}, got {m['got']}" for m in r.misses]
    return "\n".join(lines)
