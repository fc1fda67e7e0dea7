"""A route whose Redis is unreachable or hung answers 503 with Retry-After and the hub's JSON error;
the hub's client bounds every read and write, so a hung Redis never hangs a route."""

import asyncio
import os
import signal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.errors import install_error_handlers
from server.shared_state.connection import connect, install_redis_errors
from tests.redis_server import RedisServer
from tests.support import free_port


def probe_app(client) -> FastAPI:
    """A hub-like app with one route that reads Redis."""
    app = FastAPI()
    install_error_handlers(app)
    install_redis_errors(app)

    @app.get("/probe")
    async def probe():
        return {"value": await client.get("k")}

    return app


def assert_redis_unavailable(response) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "redis_unavailable"


def test_unreachable_redis_is_a_503_with_retry_after():
    client = connect(f"redis://127.0.0.1:{free_port()}/0", socket_timeout_s=0.2)  # nothing listens
    assert_redis_unavailable(TestClient(probe_app(client), raise_server_exceptions=False).get("/probe"))


def test_a_redis_that_accepts_connections_but_never_answers_is_a_503():
    with RedisServer() as server:
        os.kill(server.process.pid, signal.SIGSTOP)  # the kernel still accepts its connections
        try:
            client = connect(server.url, socket_timeout_s=0.2)
            assert_redis_unavailable(TestClient(probe_app(client), raise_server_exceptions=False).get("/probe"))
        finally:
            os.kill(server.process.pid, signal.SIGCONT)


def test_a_command_after_a_redis_restart_reconnects_by_itself(redis_server, redis_url):
    from server.shared_state.connection import connect_sync

    async def across_restart():
        client = connect(redis_url)
        try:
            await client.set("k", "v")
            redis_server.kill()
            redis_server.start()
            return await client.set("k", "w"), await client.get("k")
        finally:
            await client.aclose()

    assert asyncio.run(across_restart()) == (True, b"w")
    blocking = connect_sync(redis_url)
    blocking.set("k", "v")
    redis_server.kill()
    redis_server.start()
    assert blocking.set("k", "x") and blocking.get("k") == b"x"
    blocking.close()


async def _against_stopped_server(server, client, value: bytes) -> None:
    """Set ``k`` once, SIGSTOP the server (its sockets stay open, nothing is read or answered) and
    set ``value``; the outer bound only keeps a missing timeout from hanging the suite: it raises a
    builtin TimeoutError, not the redis-py error the routes answer 503 for."""
    try:
        await client.set("k", "v")
        os.kill(server.process.pid, signal.SIGSTOP)
        await asyncio.wait_for(client.set("k", value), 15)
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        await client.aclose()


# 64 MiB is more than loopback's socket buffers hold, so that write blocks. Sizes, not values: a
# parameter lives as long as the test session.
@pytest.mark.parametrize("size", [1, 64 << 20], ids=["read-blocks", "write-blocks"])
def test_a_hub_client_of_a_redis_that_stops_answering_times_out(size):
    with RedisServer() as server, pytest.raises(RedisTimeoutError):
        asyncio.run(_against_stopped_server(server, connect(server.url, socket_timeout_s=0.2), b"x" * size))
