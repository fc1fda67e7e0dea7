"""The feedback chain with langchain_core's FakeListChatModel, and the retry/fallback policy."""

from __future__ import annotations

import pytest
from langchain_core.language_models import FakeListChatModel
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from feedback.chain import build_feedback_chain
from feedback.citations import cited_ids
from feedback.composer import OFFLINE_ANSWER_LABEL, OFFLINE_LABEL
from feedback.providers import RetryPolicy, stream_with_fallback


class RecordingChat(FakeListChatModel):
    """FakeListChatModel that keeps the messages of every call."""

    calls: list = []

    def _stream(self, messages, *args, **kwargs):
        self.calls.append(messages)
        yield from super()._stream(messages, *args, **kwargs)


class FailingChat(FakeListChatModel):
    """Fails before its first token, like a server that never answers; ``status`` mimics an HTTP error."""

    attempts: int = 0
    status: int | None = None

    def _stream(self, *args, **kwargs):
        self.attempts += 1
        err = RuntimeError("boom")
        err.status_code = self.status
        raise err


def collect(chain, request):
    parts = list(chain.stream(request))
    first_answer = next(i for i, p in enumerate(parts) if "answer" in p)
    chunk_parts = [i for i, p in enumerate(parts) if "chunks" in p]
    return parts, "".join(p.get("answer", "") for p in parts), chunk_parts, first_answer


def test_offline_chain_streams_sources_first_then_grounded_text(retriever, knees_set):
    chain = build_feedback_chain(retriever, None)
    parts, answer, chunk_parts, first_answer = collect(chain, {"summary": knees_set})
    assert chunk_parts and chunk_parts[0] < first_answer
    chunks = parts[chunk_parts[0]]["chunks"]
    assert answer.startswith(OFFLINE_LABEL) and sum("answer" in p for p in parts) > 10  # streamed in pieces
    assert set(cited_ids(answer)) <= {c.chunk_id for c in chunks}
    assert chain.invoke({"summary": knees_set.model_dump()})["answer"] == answer  # a dict summary works too


def test_llm_citations_of_chunks_that_were_not_retrieved_are_removed(retriever, knees_set):
    # Find a chunk the chain will retrieve, to cite it correctly.
    real = retriever.retrieve(
        "knees caving in (knee valgus) during the squat: why it happens, coaching cues and drills to fix it"
    )[0].chunk_id
    fake = FakeListChatModel(
        responses=[
            f"Push the knees out [{real}]. Squat on one leg [invented-doc#7]. Done [{real}, depth#99]."
        ]
    )
    parts, answer, chunk_parts, _ = collect(build_feedback_chain(retriever, fake), {"summary": knees_set})
    retrieved = {c.chunk_id for c in parts[chunk_parts[0]]["chunks"]}
    assert real in retrieved
    assert answer == f"Push the knees out [{real}]. Squat on one leg . Done [{real}]."
    assert set(cited_ids(answer)) <= retrieved


def test_follow_up_sends_the_question_sources_and_only_the_last_ten_turns(retriever, knees_set):
    model = RecordingChat(responses=["Brace first [bracing-and-breathing#1]."], calls=[])
    history = []
    for i in range(12):
        history += [
            {"role": "user", "content": f"question {i}"},
            {"role": "assistant", "content": f"answer {i}"},
        ]
    chain = build_feedback_chain(retriever, model, history_turns=10)
    chain.invoke({"summary": knees_set, "question": "How should I breathe?", "history": history})
    messages = model.calls[0]
    texts = [m.content for m in messages]
    assert texts[1] == "question 2" and texts[-2] == "answer 11"  # system, 20 history messages, question
    assert len(messages) == 1 + 20 + 1
    assert "Question: How should I breathe?" in texts[-1] and "[bracing-and-breathing#" in texts[-1]
    assert "knees_caving (critical" in texts[-1]  # the set's measurements come along


def test_follow_up_without_llm_answers_from_the_knowledge_base(retriever):
    out = build_feedback_chain(retriever, None).invoke({"question": "Do I need a spotter for back squats?"})
    assert out["answer"].startswith(OFFLINE_ANSWER_LABEL)
    assert "safety" in {c.doc_id for c in out["chunks"]}


def test_input_without_summary_or_question_is_refused(retriever):
    with pytest.raises(ValueError, match="summary or a question"):
        build_feedback_chain(retriever, None).invoke({"question": "  "})


def test_mid_stream_failure_keeps_the_text_and_appends_the_offline_feedback(retriever, depth_set):
    fake = FakeListChatModel(responses=["Good depth work today"], error_on_chunk_number=5)
    _, answer, _, _ = collect(
        build_feedback_chain(retriever, fake, sleep=lambda s: None), {"summary": depth_set}
    )
    assert answer.startswith("Good ")
    assert "**Notice:** the language model could not answer (it stopped mid-answer" in answer
    assert OFFLINE_LABEL in answer and "**Main fault — Depth not reached:**" in answer


def test_backoff_waits_grow_by_one_and_a_half():
    assert RetryPolicy().delays() == [0.5, 0.75]
    assert RetryPolicy(max_retries=3, initial_s=1.0, factor=1.5).delays() == [1.0, 1.5, 2.25]


def test_failed_attempts_are_retried_with_backoff_then_fall_back():
    model, waits = FailingChat(responses=["x"]), []
    out = "".join(
        stream_with_fallback(model, [], lambda: iter(["offline text"]), RetryPolicy(), waits.append)
    )
    assert model.attempts == 3 and waits == [0.5, 0.75]
    assert out.startswith(
        "> **Notice:** the language model could not answer (RuntimeError, after 3 attempts)"
    )
    assert out.endswith("offline text")


def test_errors_a_retry_cannot_fix_are_not_retried():
    model, waits = FailingChat(responses=["x"], status=401), []
    out = "".join(
        stream_with_fallback(model, [], lambda: iter(["offline text"]), RetryPolicy(), waits.append)
    )
    assert model.attempts == 1 and waits == []
    assert "RuntimeError (HTTP 401)" in out and out.endswith("offline text")


class SilentChat(FakeListChatModel):
    """Streams one empty piece and ends, like a server that answers with no content."""

    def _stream(self, *args, **kwargs):
        yield ChatGenerationChunk(message=AIMessageChunk(content=""))


def test_an_empty_answer_counts_as_a_failure():
    out = "".join(
        stream_with_fallback(
            SilentChat(responses=["x"]), [], lambda: iter(["offline text"]), RetryPolicy(max_retries=0)
        )
    )
    assert "empty answer" in out and out.endswith("offline text")
