"""The test Redis server itself: it answers, and a kill then start on the same port comes back empty."""

import redis

from tests.redis_server import RedisServer


def test_flushed_per_test(redis_url):
    client = redis.Redis.from_url(redis_url)
    assert client.dbsize() == 0
    client.set("formsync:probe", b"1")
    assert client.get("formsync:probe") == b"1"


def test_kill_and_restart_on_the_same_port():
    with RedisServer() as server:
        client = redis.Redis.from_url(server.url, socket_timeout=1)
        client.set("k", b"v")
        server.kill()
        server.start()
        assert client.get("k") is None  # persistence is off: a crash loses everything
