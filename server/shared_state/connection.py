"""One Redis connection pool per hub process, and what a request sees when Redis is down.

Every Redis-backed store takes the client ``connect`` returns. Commands that cannot reach Redis
raise ``redis.exceptions.ConnectionError``/``TimeoutError``; ``install_redis_errors`` turns them
into ``503 redis_unavailable`` with ``Retry-After`` (never a 500), and the pool reconnects by
itself on the next command (redis-py retries with exponential backoff, capped at 1 s, before
giving up on a command).
"""

from __future__ import annotations

import logging

import redis
import redis.asyncio as aioredis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from server.errors import ApiError, request_id_of

log = logging.getLogger(__name__)

RETRY_AFTER_S = 1
"""What a 503 asks the caller to wait, s: about the time a restarted Redis takes to answer."""

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)


def connect(url: str, *, socket_timeout_s: float = 2.0) -> aioredis.Redis:
    """A client with a connection pool for ``url`` (``redis://host:port/db``); connects lazily.

    Replies are bytes (frames are binary). Each command is retried 3 times with exponential backoff
    (10 ms to 1 s) on connection errors and timeouts, then raises.
    """
    return aioredis.Redis.from_url(
        url,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=socket_timeout_s,
        health_check_interval=10,
        # The asyncio client needs the asyncio Retry: the synchronous one never awaits the retried call.
        retry=AsyncRetry(ExponentialBackoff(cap=1.0, base=0.01), retries=3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )


def connect_sync(url: str, *, socket_timeout_s: float = 2.0) -> redis.Redis:
    """Like ``connect``, for stores whose methods run in a thread (their interface says so, like
    SQLite's): a blocking client with the same pool, timeouts and retries."""
    return redis.Redis.from_url(
        url,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=socket_timeout_s,
        health_check_interval=10,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.01), retries=3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )


def unavailable(exc: BaseException) -> ApiError:
    """The hub's JSON error for a Redis it cannot reach: 503, ``code=redis_unavailable``."""
    return ApiError(503, "redis_unavailable", f"shared state (Redis) unavailable: {exc}",
                    retry_after_s=RETRY_AFTER_S)


def install_redis_errors(app: FastAPI) -> None:
    """Map Redis connection errors raised anywhere in a route to ``503`` + ``Retry-After``."""

    async def on_redis_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("redis unavailable during %s %s: %s", request.method, request.url.path, exc)
        err = unavailable(exc)
        return JSONResponse(err.body(request_id_of(request)), status_code=503,
                            headers={"Retry-After": str(RETRY_AFTER_S)})

    app.add_exception_handler(RedisConnectionError, on_redis_down)
    app.add_exception_handler(RedisTimeoutError, on_redis_down)
