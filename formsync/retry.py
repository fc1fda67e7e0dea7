"""Reconnect delays shared by every FormSync process that talks to the hub."""

from __future__ import annotations

import random
from collections.abc import Iterator

import backoff


def reconnect_delays(factor: float = 0.5, max_value: float = 10.0) -> Iterator[float]:
    """Delays in seconds: ``factor`` doubling to ``max_value``, each scaled by a random factor in
    [0.5, 1) ("equal jitter", AWS Architecture Blog "Exponential Backoff And Jitter", 2015), so
    many processes do not retry in lockstep after a hub restart, yet never wait near zero."""
    gen = backoff.expo(base=2, factor=factor, max_value=max_value)
    next(gen)  # backoff's generators are primed with one bare next()
    for delay in gen:
        yield delay * (0.5 + random.random() / 2)
