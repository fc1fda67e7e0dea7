"""The OpenAI-compatible (and Ollama) path against a real local HTTP server that streams."""

from __future__ import annotations

import logging
import time

import pytest

from feedback.citations import cited_ids
from feedback.composer import OFFLINE_LABEL
from feedback.providers import describe_provider, make_llm
from feedback.service import build_service
from feedback.settings import FeedbackSettings
from tests.feedback.openai_server import Behaviour, ChatServer, answer

API_KEY = "sk-test-key-that-must-never-be-logged"


@pytest.fixture
def openai_settings(settings):
    def make(server: ChatServer, **extra):
        return FeedbackSettings(
            **{
                **settings.model_dump(),
                "provider": "openai",
                "openai_base_url": server.base_url,
                "openai_model": "stub-model",
                "openai_api_key": API_KEY,
                **extra,
            }
        )

    return make


def stream(service, request) -> tuple[list[dict], str]:
    parts = list(service.chain().stream(request))
    return parts, "".join(p.get("answer", "") for p in parts)


def test_streams_the_model_answer_with_retrieved_citations(openai_settings, knees_set, retriever):
    cite = retriever.retrieve(
        "knees caving in (knee valgus) during the squat: why it happens, coaching cues and drills to fix it"
    )[0].chunk_id
    text = f"Your knees caved in on reps 1 to 3 [{cite}]. Cue: knees out [{cite}]. Made up [nope#1]."
    with ChatServer([answer(text, size=7)]) as server:
        service = build_service(openai_settings(server))
        parts, out = stream(service, {"summary": knees_set})
    assert out == text.replace(" [nope#1]", " ")  # streamed verbatim, minus the citation it was not given
    assert sum(1 for p in parts if p.get("answer")) > 5  # many pieces: really streamed
    req = server.requests[0]
    assert (
        req.path == "/v1/chat/completions"
        and req.body["stream"] is True
        and req.body["model"] == "stub-model"
    )
    assert req.headers["authorization"] == f"Bearer {API_KEY}"
    prompt = req.body["messages"][-1]["content"]
    assert f"[{cite}]" in prompt and "knees_caving (critical, rep 2" in prompt
    chunks = next(p["chunks"] for p in parts if "chunks" in p)
    assert set(cited_ids(out)) <= {c.chunk_id for c in chunks}


def test_a_server_that_never_answers_times_out_three_times_then_falls_back(openai_settings, knees_set):
    with ChatServer([Behaviour(delay_s=3.0)]) as server:
        service = build_service(openai_settings(server, timeout_s=0.4, backoff_initial_s=0.05))
        started = time.monotonic()
        _, out = stream(service, {"summary": knees_set})
        elapsed = time.monotonic() - started
    assert len(server.requests) == 3  # 1 attempt + 2 retries (the waits between are in test_chain)
    assert out.startswith("> **Notice:** the language model could not answer (timed out, after 3 attempts)")
    assert OFFLINE_LABEL in out and "**Main fault — Knees caving in:**" in out
    assert elapsed < 6.0  # cut short by the client's 0.4 s timeouts: waiting out the server would take 9 s


@pytest.mark.parametrize(
    ("statuses", "requests", "model_answers"),
    [
        ([500, 500, 500], 3, False),
        ([503, None], 2, True),  # a retry rescues the request
        ([429, 429, None], 3, True),
        ([401], 1, False),  # a bad key is not retried
    ],
)
def test_error_responses_are_retried_or_fall_back(
    openai_settings, depth_set, statuses, requests, model_answers
):
    script = [Behaviour(status=s) if s else answer("Sit lower.") for s in statuses]
    with ChatServer(script) as server:
        _, out = stream(build_service(openai_settings(server)), {"summary": depth_set})
    assert len(server.requests) == requests
    if model_answers:
        assert out == "Sit lower."
    else:
        assert f"HTTP {statuses[-1]}" in out and OFFLINE_LABEL in out


def test_a_stream_that_stalls_mid_answer_keeps_its_text_and_adds_the_fallback(openai_settings, depth_set):
    with ChatServer(
        [Behaviour(pieces=("Good ", "depth ", "on rep 1", " and more"), stall_after=2, delay_s=3.0)]
    ) as server:
        _, out = stream(build_service(openai_settings(server, timeout_s=0.4)), {"summary": depth_set})
    assert out.startswith("Good depth ")
    assert "it stopped mid-answer: timed out" in out and OFFLINE_LABEL in out
    assert len(server.requests) == 1  # text was shown: no retry that would repeat it


def test_logs_hold_neither_the_question_nor_the_api_key(openai_settings, knees_set, caplog):
    question = "My left knee feels odd when I squat deep, what should I change? secret-marker-4711"
    with ChatServer([Behaviour(status=500), answer("Keep the knee over the toes.")]) as server:
        service = build_service(openai_settings(server))
        with caplog.at_level(logging.DEBUG):
            out = service.chain().invoke({"summary": knees_set, "question": question, "history": []})
    assert out["answer"] == "Keep the knee over the toes."
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"follow-up question: {len(question)} chars" in logged  # logged by length and tag only
    assert "secret-marker-4711" not in logged and API_KEY not in logged
    assert "sk-test" not in describe_provider(openai_settings(server)) and "sk-test" not in repr(
        service.settings
    )


def test_ollama_provider_streams_from_an_ollama_server(settings, depth_set):
    with ChatServer([answer("Hips down to knee height.", size=5)]) as server:
        s = FeedbackSettings(
            **{
                **settings.model_dump(),
                "provider": "ollama",
                "ollama_base_url": server.url,
                "ollama_model": "llama3.2",
            }
        )
        assert type(make_llm(s)).__name__ == "ChatOllama"
        _, out = stream(build_service(s), {"summary": depth_set})
    assert out == "Hips down to knee height."
    assert server.requests[0].path == "/api/chat" and server.requests[0].body["model"] == "llama3.2"
