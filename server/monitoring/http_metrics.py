"""Counting the hub's HTTP answers by status: Prometheus counters and the error-rate window."""

from __future__ import annotations

import threading
from collections import deque

from server.monitoring.metrics import HubMetrics

# Answers that count as failures for the error-rate alert: the hub broke (5xx), or refused a
# payload a sender keeps sending (400 malformed, 413 too large, 415 not JPEG, 422 invalid).
# 404 and 409 are left out: dashboards asking for a frame that just left the ring and workers
# posting a result a newer one overtook are routine in a healthy pipeline.
REFUSED = frozenset({400, 413, 415, 422})


def is_failure(status: int) -> bool:
    return status >= 500 or status in REFUSED


class HttpStats:
    """Running totals of HTTP answers. ``requests`` and ``failures`` only grow."""

    def __init__(self, metrics: HubMetrics) -> None:
        self.metrics = metrics
        self.requests = 0
        self.failures = 0
        # Labelled children by status: .labels() costs a lock and a tuple build per call, which
        # every frame upload would pay (bench/monitoring.py).
        self._children: dict[int, tuple] = {}

    def count(self, status: int) -> None:
        children = self._children.get(status)
        if children is None:
            label = str(status)
            children = self._children[status] = (
                self.metrics.http_requests.labels(label),
                self.metrics.http_errors.labels(label) if status >= 400 else None,
                is_failure(status))
        requests, errors, failure = children
        self.requests += 1
        requests.inc()
        if errors is not None:
            errors.inc()
        if failure:
            self.failures += 1


class HttpMetricsMiddleware:
    """Plain ASGI middleware (no per-request tasks, unlike ``@app.middleware``) counting every HTTP
    answer; an exception that escapes the app counts as the 500 its error handler will send."""

    def __init__(self, app, stats: HttpStats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def counting_send(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                self.stats.count(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        except Exception:
            if not started:
                self.stats.count(500)
            raise


class ErrorRateWindow:
    """Error rate over a sliding window, from snapshots of ``HttpStats``' running totals.

    Args:
        window_s: the window, seconds.
        min_requests: fewer requests than this in the window gives no rate (None), so 1 failure
            out of 2 requests is not "50 %".
    """

    def __init__(self, window_s: float = 60.0, min_requests: int = 20) -> None:
        self.window_ns = int(window_s * 1e9)
        self.min_requests = min_requests
        self._lock = threading.Lock()
        self._snapshots: deque[tuple[int, int, int]] = deque()

    def add(self, now_ns: int, requests: int, failures: int) -> None:
        with self._lock:
            self._snapshots.append((now_ns, requests, failures))
            # Keep one snapshot at or before the horizon, as the window's starting point.
            while len(self._snapshots) > 1 and self._snapshots[1][0] <= now_ns - self.window_ns:
                self._snapshots.popleft()

    def percent(self) -> float | None:
        """Failures per 100 requests between the oldest and newest snapshot; None below
        ``min_requests``."""
        with self._lock:
            if len(self._snapshots) < 2:
                return None
            (_, r0, f0), (_, r1, f1) = self._snapshots[0], self._snapshots[-1]
        requests = r1 - r0
        if requests < self.min_requests:
            return None
        return 100.0 * (f1 - f0) / requests
