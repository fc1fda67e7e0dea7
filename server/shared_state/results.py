"""``LatestResults`` in Redis (``server.results`` has the behaviour): any hub serves any camera's result.

Keys (``{p}`` = ``formsync:``):

- ``{p}results``: hash camera -> JSON ``{"hub_receive_time_ns": int, "result": AnalysisIn dump}``;
- ``{p}result-capture``: hash camera -> the stored result's ``capture_time_ns`` (decimal).

``put`` is one Lua script, so "keep the newer frame's result" holds across hubs. Capture times are
compared as decimal strings (length, then digits): Lua numbers are doubles, exact to 2**53 only,
and ns since the epoch are ~2**60. One hash per kind keeps ``all`` to one round trip whatever the
number of cameras. Results are the latest of a stream that refreshes at camera fps, so they are
not worth persisting; a Redis restart empties them until the next result (~33 ms at 30 fps).
"""

from __future__ import annotations

import orjson
from redis.asyncio import Redis

from server.results import StoredResult

PREFIX = "formsync:"

_PUT = """
local cur = redis.call('HGET', KEYS[2], ARGV[1])
local new = ARGV[2]
if cur and (#cur > #new or (#cur == #new and cur > new)) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], new)
return 1
"""


def _decode(camera_id: str, raw: bytes) -> StoredResult:
    body = orjson.loads(raw)
    return StoredResult(camera_id, body["hub_receive_time_ns"], body["result"])


class RedisLatestResults:
    """Args:
        client: from ``server.shared_state.connection.connect`` (the caller closes it unless
            ``owns_client``).
    """

    def __init__(self, client: Redis, *, prefix: str = PREFIX, owns_client: bool = False) -> None:
        self._redis = client
        self._owns = owns_client
        self._results = f"{prefix}results"
        self._capture = f"{prefix}result-capture"
        self._put = client.register_script(_PUT)

    async def put(self, item: StoredResult) -> bool:
        body = orjson.dumps({"hub_receive_time_ns": item.hub_receive_time_ns, "result": item.result})
        done = await self._put(keys=[self._results, self._capture],
                               args=[item.camera_id, str(int(item.result["capture_time_ns"])), body])
        return bool(done)

    async def get(self, camera_id: str) -> StoredResult | None:
        raw = await self._redis.hget(self._results, camera_id)
        return None if raw is None else _decode(camera_id, raw)

    async def all(self) -> list[StoredResult]:
        found = await self._redis.hgetall(self._results)
        return [_decode(camera.decode(), raw) for camera, raw in found.items()]

    async def close(self) -> None:
        if self._owns:
            await self._redis.aclose()
