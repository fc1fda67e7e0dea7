"""Helpers for monitoring tests: real heartbeat bodies and the hub's event stream."""

from __future__ import annotations

import asyncio
import json
import time

from websockets.sync.client import connect

from formsync.heartbeat import HeartbeatSource


def heartbeat_body(process_id: str = "client:test-pc:front", role: str = "client", interval_s: float = 2.0,
                   **fields) -> dict:
    """A heartbeat as a real sender builds it (live psutil samples of this machine and process)."""
    body = asyncio.run(HeartbeatSource(process_id, role, interval_s=interval_s).body()).model_dump(mode="json")
    return {**body, **fields}


def camera_link(camera_id: str = "front", **fields) -> dict:
    return {"camera_id": camera_id, "capture_fps": 30.0, "sent_fps": 29.5, "captured_total": 300,
            "sent_total": 290, "dropped_total": 10, "rejected_total": 0, "failed_total": 0,
            "upload_latency_p50_ms": 3.0, "upload_latency_p95_ms": 9.0, "clock_offset_ms": -1.5,
            "clock_uncertainty_ms": 0.2, "hub_up": True, **fields}


class EventStream:
    """``WS /api/v1/events`` of a hub, filtered by type, read with timeouts."""

    def __init__(self, hub_url: str, types: str) -> None:
        self.ws = connect(hub_url.replace("http", "ws", 1) + f"/api/v1/events?types={types}")

    def next_matching(self, predicate, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching event")
            event = json.loads(self.ws.recv(timeout=left))
            if predicate(event):
                return event

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
