"""The hub's state stores, each suite run against the embedded implementation and the Redis one
(a real redis-server, tests/redis_server.py)."""

from __future__ import annotations

import asyncio

import pytest

IMPLEMENTATIONS = ["embedded", "redis"]


@pytest.fixture(params=IMPLEMENTATIONS)
def kind(request) -> str:
    """``embedded`` or ``redis``; for ``redis`` the session's server is flushed first."""
    return request.param


@pytest.fixture
def state_redis_url(request, kind) -> str | None:
    return request.getfixturevalue("redis_url") if kind == "redis" else None


def run(coro):
    """Run one coroutine on a fresh loop (the stores' Redis clients connect on the loop using them)."""
    return asyncio.run(coro)
