"""LLM providers behind one interface (a langchain chat model, or ``None`` for the offline composer),
and the resilient streaming call every provider goes through.

Providers (``FeedbackSettings.provider``):
    offline  the grounded composer (``composer``): no model, no network; the default.
    openai   any server speaking OpenAI's chat-completions API (OpenAI, vLLM, llama.cpp's server,
             LM Studio) through langchain-openai's ``ChatOpenAI``.
    ollama   an Ollama server through langchain-ollama's ``ChatOllama``.

Resilience (``stream_with_fallback``): each attempt has a timeout (``timeout_s``, default 5 s) for the
server to start answering and for each next piece; a failed attempt is retried ``max_retries`` times
(default 2) after waits growing by ``backoff_factor`` (default 0.5 s, then 0.75 s). Errors that a
retry cannot fix (401, 403, 404, 400...) are not retried. When every attempt fails, or the model
breaks off mid-answer or says nothing, the user gets a visible notice followed by the offline
composer's feedback: never a blank and never a stack trace.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import backoff
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from feedback.settings import FeedbackSettings

log = logging.getLogger("formsync.feedback.providers")

# Statuses worth another attempt: timeouts, conflicts, rate limits and server errors.
RETRYABLE_STATUS = {408, 409, 425, 429}


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts = 1 + ``max_retries``; waits ``initial_s``, ``initial_s * factor``, ... seconds."""

    max_retries: int = 2
    initial_s: float = 0.5
    factor: float = 1.5

    @classmethod
    def from_settings(cls, s: FeedbackSettings) -> RetryPolicy:
        return cls(max_retries=s.max_retries, initial_s=s.backoff_initial_s, factor=s.backoff_factor)

    def delays(self) -> list[float]:
        """The wait before each retry, in seconds (``backoff.expo`` without jitter: one user, no herd)."""
        gen = backoff.expo(base=self.factor, factor=self.initial_s)
        next(gen)  # backoff's generators are primed with one bare next()
        return [next(gen) for _ in range(self.max_retries)]


def make_llm(settings: FeedbackSettings) -> BaseChatModel | None:
    """The configured chat model, or ``None`` for the offline composer. Builds a client only; no
    request is made until the chain runs."""
    # Some openai client versions log request options (the user's messages) at DEBUG: keep them out.
    logging.getLogger("openai").setLevel(max(logging.getLogger("openai").getEffectiveLevel(), logging.INFO))
    if settings.provider == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=settings.openai_model,
            base_url=settings.openai_base_url,
            # Local servers (llama.cpp, vLLM, LM Studio) ignore the key, but the client insists on one.
            api_key=settings.openai_api_key.get_secret_value() or "not-needed",
            timeout=settings.timeout_s,
            max_retries=0,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            streaming=True,
        )
    if settings.provider == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=settings.ollama_model,
            base_url=settings.ollama_base_url,
            temperature=settings.temperature,
            num_predict=settings.max_tokens,
            client_kwargs={"timeout": settings.timeout_s},
        )
    return None


def describe_provider(settings: FeedbackSettings) -> str:
    """For the page and the log: which provider, model and server (never the key)."""
    if settings.provider == "openai":
        return f"OpenAI-compatible server at {settings.openai_base_url} (model {settings.openai_model})"
    if settings.provider == "ollama":
        return f"Ollama at {settings.ollama_base_url} (model {settings.ollama_model})"
    return "offline grounded composer (no language model)"


def error_status(exc: BaseException) -> int | None:
    """The HTTP status behind an openai/httpx/ollama error, if it has one."""
    for attr in ("status_code", "status"):
        v = getattr(exc, attr, None)
        if isinstance(v, int):
            return v
    resp = getattr(exc, "response", None)
    v = getattr(resp, "status_code", None)
    return v if isinstance(v, int) else None


def describe_error(exc: BaseException) -> str:
    """A short reason for the log and the notice: the error type and status, never its text (a
    server may echo the request, i.e. the user's message, in its error body)."""
    status = error_status(exc)
    name = type(exc).__name__
    if "timeout" in name.lower() or isinstance(exc, TimeoutError):
        return "timed out"
    return f"{name} (HTTP {status})" if status else name


def retryable(exc: BaseException) -> bool:
    status = error_status(exc)
    return status is None or status >= 500 or status in RETRYABLE_STATUS


def _text(chunk) -> str:
    content = getattr(chunk, "content", chunk)
    if isinstance(content, str):
        return content
    return getattr(chunk, "text", "") or ""


def notice(reason: str) -> str:
    return (
        f"> **Notice:** the language model could not answer ({reason}), so this is FormSync's offline "
        f"coaching instead.\n\n"
    )


def stream_with_fallback(
    llm: BaseChatModel,
    messages: Sequence[BaseMessage],
    fallback: Callable[[], Iterator[str]],
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[str]:
    """Stream ``llm``'s answer to ``messages`` piece by piece; on failure retry per ``policy``, then
    yield a notice and ``fallback()``'s pieces. Never raises for a provider error."""
    delays = policy.delays()
    attempts = len(delays) + 1
    reason = "no answer"
    for attempt in range(attempts):
        emitted = False
        started = time.perf_counter()
        try:
            for chunk in llm.stream(list(messages)):
                text = _text(chunk)
                if text:
                    if not emitted:
                        log.info(
                            "first token after %.0f ms (attempt %d)",
                            (time.perf_counter() - started) * 1e3,
                            attempt + 1,
                        )
                    emitted = True
                    yield text
            if emitted:
                return
            reason = "it sent an empty answer"
            log.warning("LLM attempt %d/%d: empty answer", attempt + 1, attempts)
        except Exception as exc:
            reason = describe_error(exc)
            log.warning("LLM attempt %d/%d failed: %s", attempt + 1, attempts, reason)
            if emitted:
                yield "\n\n" + notice(f"it stopped mid-answer: {reason}")
                yield from fallback()
                return
            if not retryable(exc):
                break
        if attempt < len(delays):
            sleep(delays[attempt])
    if attempts > 1:
        reason = f"{reason}, after {attempt + 1} attempt{'s' * (attempt > 0)}"
    yield notice(reason)
    yield from fallback()
