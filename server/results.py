"""Latest analysis result per camera.

``LatestResults`` is what the routes use; ``EmbeddedLatestResults`` keeps them in this hub's memory,
``server.shared_state.results.RedisLatestResults`` in Redis (every hub serves every camera's result).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredResult:
    camera_id: str
    hub_receive_time_ns: int
    result: dict  # an AnalysisIn dumped to JSON-ready form; treated as immutable


class LatestResults(Protocol):
    """Map camera -> newest result by capture time: a late result for an older frame never replaces
    a newer one. Coroutines that never block the event loop. The Redis implementation raises
    ``redis.exceptions.ConnectionError`` while Redis is unreachable (a 503 for a route)."""

    async def put(self, item: StoredResult) -> bool:
        """Store ``item``; False (nothing changed) when a newer frame's result is already held."""

    async def get(self, camera_id: str) -> StoredResult | None: ...

    async def all(self) -> list[StoredResult]:
        """The newest result of every camera (a snapshot)."""

    async def close(self) -> None: ...


class EmbeddedLatestResults:
    """``LatestResults`` in this process's memory (one hub). Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._results: dict[str, StoredResult] = {}

    async def put(self, item: StoredResult) -> bool:
        with self._lock:
            current = self._results.get(item.camera_id)
            if current is not None and current.result["capture_time_ns"] > item.result["capture_time_ns"]:
                return False
            self._results[item.camera_id] = item
            return True

    async def get(self, camera_id: str) -> StoredResult | None:
        with self._lock:
            return self._results.get(camera_id)

    async def all(self) -> list[StoredResult]:
        with self._lock:
            return list(self._results.values())

    async def close(self) -> None:
        pass


def open_latest_results(redis_url: str | None) -> LatestResults:
    """Redis-backed with ``redis_url`` (``FORMSYNC_HUB_REDIS_URL``), else in this hub's memory."""
    if redis_url is None:
        return EmbeddedLatestResults()
    from server.shared_state.connection import connect
    from server.shared_state.results import RedisLatestResults

    return RedisLatestResults(connect(redis_url), owns_client=True)
