"""Per-session request limits: a sliding-window rate limit and an input length limit.

The window is a deque of request times; a dedicated library (e.g. ``limits``) would bring storage
back-ends we do not need for one counter that lives in a Streamlit session's state.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class SlidingWindowLimiter:
    """At most ``max_requests`` in any ``window_s`` seconds. Not thread-safe: one per session."""

    max_requests: int = 10
    window_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _times: deque = field(default_factory=deque, repr=False)

    def _expire(self, now: float) -> None:
        while self._times and now - self._times[0] >= self.window_s:
            self._times.popleft()

    def try_acquire(self) -> float:
        """Record a request and return 0.0, or, when over the limit, record nothing and return the
        seconds until the oldest request leaves the window (> 0)."""
        now = self.clock()
        self._expire(now)
        if len(self._times) >= self.max_requests:
            return max(0.001, self.window_s - (now - self._times[0]))
        self._times.append(now)
        return 0.0

    def remaining(self) -> int:
        self._expire(self.clock())
        return self.max_requests - len(self._times)


def rate_limit_message(wait_s: float, max_requests: int, window_s: float = 60.0) -> str:
    per = "minute" if window_s == 60 else f"{window_s:g} s"
    return (
        f"Too many requests: this session may ask {max_requests} times per {per}. "
        f"Please wait {max(1, round(wait_s))} s and try again."
    )


def check_length(text: str, max_chars: int) -> str | None:
    """``None`` when ``text`` is acceptable, else a message saying what is wrong."""
    if not text.strip():
        return "The question is empty."
    if len(text) > max_chars:
        return f"The question is {len(text)} characters long; the limit is {max_chars}. Please shorten it."
    return None
