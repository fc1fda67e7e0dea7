"""The feedback chain: retrieve knowledge for a set (or a follow-up question), then stream grounded
coaching from the configured provider, with the offline composer as the default and the fallback.

``build_feedback_chain(retriever, llm)`` returns a langchain ``Runnable``. Input (a dict)::

    {"summary": SetSummary | dict | None,     # the set to coach (hub SetSummary shape)
     "question": str | None,                  # a follow-up question; None = coach the set
     "history": [{"role": "user"|"assistant", "content": str}, ...]}   # earlier follow-up turns

``.stream(input)`` yields first ``{"query": ..., "chunks": [RetrievedChunk, ...], ...}`` (the
sources, before any answer text) and then ``{"answer": "piece"}`` dicts; ``.invoke(input)`` returns
one dict with the whole ``answer``. Every ``[doc-id#n]`` citation in the answer names one of
``chunks``: the offline composer only cites what it was given and ``CitationFilter`` removes any other
citation an LLM writes. Raises ``ValueError`` for an input with neither a summary nor a question,
``pydantic.ValidationError`` for a malformed summary.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableGenerator, RunnableLambda, RunnablePassthrough

from feedback.citations import CitationFilter
from feedback.composer import compose_answer, compose_feedback, stream_text
from feedback.providers import RetryPolicy, stream_with_fallback
from feedback.query import build_followup_queries, build_query, describe_measurements
from feedback.retriever import RetrievedChunk
from feedback.summary import SetSummary

log = logging.getLogger("formsync.feedback.chain")

RULES = """You are FormSync's squat coach. Use ONLY the numbered sources and the measurements given \
below. After every sentence that uses a source, cite it with its id in square brackets exactly as \
written, for example [knee-tracking#3]. Never cite an id that is not listed. If the sources do not \
cover something, say so instead of guessing. Speak to the lifter in plain words. You are not a \
doctor: if the lifter mentions pain, tell them to stop and get it checked."""

FEEDBACK_TASK = """Write coaching for this set in under 200 words with four short parts: \
**What went well** (from the measurements), **Main fault** (what was measured and why it happens), \
**Cue** (one short cue) and **Drill** (one drill with sets and reps)."""

FEEDBACK_PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", RULES + "\n\n" + FEEDBACK_TASK),
        ("human", "Measurements:\n{measurements}\n\nSources:\n{sources}\n\nWrite the coaching."),
    ]
)

FOLLOWUP_PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", RULES + "\n\nAnswer the lifter's question in under 150 words."),
        MessagesPlaceholder("history"),
        ("human", "Measurements:\n{measurements}\n\nSources:\n{sources}\n\nQuestion: {question}"),
    ]
)


def format_sources(chunks: Sequence[RetrievedChunk]) -> str:
    """The sources block of a prompt: ``[id] Title — Section`` then the chunk's text."""
    return "\n\n".join(f"[{c.chunk_id}] {c.title} — {c.section}\n{c.body}" for c in chunks) or "(none)"


def history_messages(history: Sequence[dict], turns: int) -> list[BaseMessage]:
    """The last ``turns`` question/answer turns as chat messages (2 messages per turn)."""
    out: list[BaseMessage] = []
    for item in list(history)[-2 * turns :]:
        role, content = item.get("role"), str(item.get("content", ""))
        out.append(HumanMessage(content) if role == "user" else AIMessage(content))
    return out


def fingerprint(text: str) -> str:
    """A short, non-reversible tag of a user message for logs (the message itself is never logged)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def _prepare(inputs: dict) -> dict:
    summary = inputs.get("summary")
    if isinstance(summary, dict):
        summary = SetSummary.model_validate(summary)
    question = (inputs.get("question") or "").strip() or None
    if summary is None and question is None:
        raise ValueError("feedback needs a set summary or a question")
    queries = build_followup_queries(question, summary) if question else [build_query(summary)]
    if question:
        log.info(
            "follow-up question: %d chars, tag %s, set %s",
            len(question),
            fingerprint(question),
            summary.set_id if summary else None,
        )
    else:
        log.info("feedback for set %s (%d reps)", summary.set_id, summary.reps)
    return {
        "summary": summary,
        "question": question,
        "history": list(inputs.get("history") or []),
        "query": queries[0],
        "queries": queries,
    }


def merge_results(results: Sequence[Sequence[RetrievedChunk]], k: int) -> list[RetrievedChunk]:
    """Several queries' chunks as one list: each chunk once with its best score, best first, ``k`` at most."""
    best: dict[str, RetrievedChunk] = {}
    for chunks in results:
        for c in chunks:
            if c.chunk_id not in best or c.score > best[c.chunk_id].score:
                best[c.chunk_id] = c
    return sorted(best.values(), key=lambda c: c.score, reverse=True)[:k]


def build_feedback_chain(
    retriever: BaseRetriever,
    llm: BaseChatModel | None,
    *,
    policy: RetryPolicy = RetryPolicy(),
    history_turns: int = 10,
    k: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Runnable:
    """The chain described in the module doc. ``llm=None`` uses the offline composer. ``k``: most
    chunks kept when several queries are merged (default: the retriever's ``k``, else 5)."""
    keep = k or getattr(retriever, "k", 5)

    def retrieve(x: dict) -> list[RetrievedChunk]:
        started = time.perf_counter()
        results = [[RetrievedChunk.from_document(d) for d in retriever.invoke(q)] for q in x["queries"]]
        chunks = merge_results(results, keep)
        log.info(
            "retrieved %s in %.0f ms", [c.chunk_id for c in chunks], (time.perf_counter() - started) * 1e3
        )
        return chunks

    def offline(x: dict) -> str:
        if x["question"]:
            return compose_answer(x["question"], x["chunks"])
        return compose_feedback(x["summary"], x["chunks"])

    def messages(x: dict) -> list[BaseMessage]:
        measurements = describe_measurements(x["summary"]) if x["summary"] else "(no set selected)"
        values = {"measurements": measurements, "sources": format_sources(x["chunks"])}
        if x["question"]:
            return FOLLOWUP_PROMPT.format_messages(
                **values, question=x["question"], history=history_messages(x["history"], history_turns)
            )
        return FEEDBACK_PROMPT.format_messages(**values)

    def answer(inputs: Iterator[dict]) -> Iterator[str]:
        x: dict = {}
        for part in inputs:  # RunnablePassthrough.assign hands over its input as a stream of dict parts
            x.update(part)
        if llm is None:
            yield from stream_text(offline(x))
            return
        cited = CitationFilter(c.chunk_id for c in x["chunks"])
        yield from cited.filter(
            stream_with_fallback(
                llm, messages(x), lambda: stream_text(offline(x)), policy=policy, sleep=sleep
            )
        )
        if cited.dropped:
            log.warning("removed %d citation(s) of chunks that were not retrieved", len(cited.dropped))

    return (
        RunnableLambda(_prepare, name="prepare")
        | RunnablePassthrough.assign(chunks=RunnableLambda(retrieve, name="retrieve"))
        | RunnablePassthrough.assign(answer=RunnableGenerator(answer, name="answer"))
    )
