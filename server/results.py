"""Latest analysis result per camera."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StoredResult:
    camera_id: str
    hub_receive_time_ns: int
    result: dict  # an AnalysisIn dumped to JSON-ready form; treated as immutable


class LatestResults:
    """Thread-safe map camera -> newest result (by capture time: a late result for an older
    frame never replaces a newer one)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._results: dict[str, StoredResult] = {}

    def put(self, item: StoredResult) -> bool:
        """Store ``item``; False (nothing changed) when a newer frame's result is already held."""
        with self._lock:
            current = self._results.get(item.camera_id)
            if current is not None and current.result["capture_time_ns"] > item.result["capture_time_ns"]:
                return False
            self._results[item.camera_id] = item
            return True

    def get(self, camera_id: str) -> StoredResult | None:
        with self._lock:
            return self._results.get(camera_id)

    def all(self) -> list[StoredResult]:
        """The newest result of every camera (a snapshot)."""
        with self._lock:
            return list(self._results.values())
