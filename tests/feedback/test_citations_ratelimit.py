"""Citation filtering on a token stream, and the per-session limits."""

from __future__ import annotations

import pytest

from feedback.citations import CitationFilter, cited_ids
from feedback.ratelimit import SlidingWindowLimiter, check_length, rate_limit_message
from feedback.settings import FeedbackSettings


def run_filter(pieces, allowed):
    f = CitationFilter(allowed)
    return "".join(f.filter(pieces)), f.dropped


@pytest.mark.parametrize("piece_size", [1, 3, 1000])
def test_unknown_citations_are_dropped_whatever_the_token_boundaries(piece_size):
    text = (
        "Knees out [knee-tracking#4]. Made up [nope#9]. Both [depth#3, fake#1]. List [1] and [note]. Open ["
    )
    pieces = [text[i : i + piece_size] for i in range(0, len(text), piece_size)]
    out, dropped = run_filter(pieces, {"knee-tracking#4", "depth#3"})
    assert out == "Knees out [knee-tracking#4]. Made up . Both [depth#3]. List [1] and [note]. Open ["
    assert dropped == ["nope#9", "fake#1"]
    assert cited_ids(out) == ["knee-tracking#4", "depth#3"]


def test_a_bracket_without_end_is_released_at_a_newline():
    out, _ = run_filter(["see [knee-tracking#4\nnext line [depth#1]"], {"depth#1"})
    assert out == "see [knee-tracking#4\nnext line [depth#1]"


def test_limiter_allows_ten_per_minute_then_says_how_long_to_wait():
    now = [1000.0]
    limiter = SlidingWindowLimiter(10, 60.0, clock=lambda: now[0])
    for _ in range(10):
        assert limiter.try_acquire() == 0.0
        now[0] += 1.0
    wait = limiter.try_acquire()
    assert wait == pytest.approx(50.0)  # the first request, at t=1000, leaves the window at t=1060
    assert limiter.remaining() == 0
    now[0] = 1060.0
    assert limiter.try_acquire() == 0.0 and limiter.remaining() == 0
    assert "10 times per minute" in rate_limit_message(wait, 10) and "wait 50 s" in rate_limit_message(
        wait, 10
    )


def test_length_limit():
    assert check_length("x" * 2000, 2000) is None
    assert "2001 characters" in check_length("x" * 2001, 2000) and "limit is 2000" in check_length(
        "x" * 2001, 2000
    )
    assert check_length("   ", 2000) == "The question is empty."


def test_defaults_match_the_documented_limits(monkeypatch):
    for var in (
        "PROVIDER",
        "TIMEOUT_S",
        "MAX_RETRIES",
        "BACKOFF_FACTOR",
        "MAX_INPUT_CHARS",
        "REQUESTS_PER_MINUTE",
        "HISTORY_TURNS",
    ):
        monkeypatch.delenv(f"FORMSYNC_FEEDBACK_{var}", raising=False)
    s = FeedbackSettings(_env_file=None)
    assert (s.provider, s.timeout_s, s.max_retries, s.backoff_factor) == ("offline", 5.0, 2, 1.5)
    assert (s.max_input_chars, s.requests_per_minute, s.history_turns) == (2000, 10, 10)
    assert s.store_path.parts[-2:] == ("var", "chroma")


def test_bad_settings_name_the_field(monkeypatch):
    monkeypatch.setenv("FORMSYNC_FEEDBACK_OPENAI_BASE_URL", "localhost:8080")
    with pytest.raises(ValueError, match="openai_base_url"):
        FeedbackSettings(_env_file=None)
