"""A route whose Redis is unreachable answers 503 with Retry-After and the hub's JSON error."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.errors import install_error_handlers
from server.shared_state.connection import connect, install_redis_errors
from tests.support import free_port


def test_unreachable_redis_is_a_503_with_retry_after():
    client = connect(f"redis://127.0.0.1:{free_port()}/0", socket_timeout_s=0.2)  # nothing listens
    app = FastAPI()
    install_error_handlers(app)
    install_redis_errors(app)

    @app.get("/probe")
    async def probe():
        return {"value": await client.get("k")}

    response = TestClient(app, raise_server_exceptions=False).get("/probe")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "redis_unavailable"


def test_a_command_after_a_redis_restart_reconnects_by_itself(redis_server, redis_url):
    import asyncio

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
