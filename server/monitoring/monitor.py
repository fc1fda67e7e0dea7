"""The hub's monitor: its own heartbeat, lost-process detection and alert evaluation, on the hub's
event loop; and the two hooks ``create_app`` calls (``install_monitoring``, ``run_monitor``).

Every ``monitor_interval_s`` (1 s) it:

1. records the hub's own heartbeat every ``heartbeat_interval_s`` (host and process via psutil,
   in a thread), so the hub's machine shows up beside the camera machines;
2. marks processes that missed ``heartbeat_lost_after`` heartbeats as lost (``process_lost``
   event) ;
3. samples the metrics of ``server.monitoring.alerts.METRICS`` and evaluates the rules; each alert that
   fires or clears is written to the ``alert_log`` table (in a thread) and published as an
   ``alert`` event.

Events::

    {"type": "heartbeat", "process_id": str, "role": str, "lost": false, "time_ns": int}
    {"type": "process_lost" | "process_online", "process_id": str, "role": str, "time_ns": int}
    {"type": "alert", "state": "firing" | "cleared", "rule": str, "subject": str,
     "level": "warning" | "critical", "value": float | null, "message": str, "time_ns": int}
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator

from fastapi import FastAPI

from formsync.heartbeat import HeartbeatSource, process_id
from formsync.host import HostCollector
from formsync.wire.events import AlertEvent, HeartbeatEvent, ProcessLostEvent, ProcessOnlineEvent
from server.background import background
from server.monitoring.alert_log import AlertLog, open_alert_log
from server.monitoring.alert_rules import load_rules
from server.monitoring.alerts import ActiveAlert, AlertEngine, Transition
from server.monitoring.collector import HubStateCollector
from server.monitoring.heartbeats import HeartbeatRegistry
from server.monitoring.http_metrics import ErrorRateWindow, HttpMetricsMiddleware, HttpStats
from server.monitoring.samples import build_samples
from server.shared_state.connection import REDIS_DOWN

log = logging.getLogger("formsync.hub.monitor")


def heartbeat_received(state, body: dict, now_ns: int) -> dict:
    """Store a heartbeat and tell subscribers; returns its ``HeartbeatOut`` view. Event loop only."""
    view, is_new, was_lost = state.heartbeats.record(body, now_ns)
    bus = state.bus
    if is_new or was_lost:
        log.info("process %s (%s) %s", body["process_id"], body["role"], "back" if was_lost else "online")
        bus.emit(ProcessOnlineEvent(process_id=body["process_id"], role=body["role"], time_ns=now_ns))
    bus.emit(HeartbeatEvent(process_id=body["process_id"], role=body["role"], time_ns=now_ns))
    return view


def hub_process_id(settings) -> str:
    """``hub:<host>:<port>``, with ``+p<pid>`` when several processes share the port: they are
    told apart by pid, as uvicorn's supervisor restarts them under new ones."""
    parts = [str(settings.port)] + ([f"p{os.getpid()}"] if settings.processes > 1 else [])
    return process_id("hub", *parts)


class HubMonitor:
    """Owns the alert engine; reads the rest from ``state`` (``app.state``)."""

    def __init__(self, state, engine: AlertEngine, alert_log: AlertLog, own: HeartbeatSource,
                 interval_s: float = 1.0, error_window: ErrorRateWindow | None = None) -> None:
        self.state = state
        self.engine = engine
        self.alert_log = alert_log
        self.own = own
        self.interval_s = interval_s
        self.error_window = error_window or ErrorRateWindow()
        self._active: tuple[ActiveAlert, ...] = ()
        self._unsaved: list[Transition] = []
        self.evaluations = 0

    def active(self) -> tuple[ActiveAlert, ...]:
        """Firing alerts after the latest evaluation (an immutable snapshot: any thread)."""
        return self._active

    async def restore(self) -> None:
        """Resume the alerts the log says were firing when the previous hub stopped. A log that
        cannot be read (Redis unreachable at start) resumes nothing: the hub starts anyway and its
        rules fire again what still holds."""
        try:
            firing = await asyncio.to_thread(self.alert_log.firing)
        except REDIS_DOWN as exc:
            log.warning("alert log unreadable, alerts firing before the restart not resumed: %s", exc)
            return
        gone = self.engine.restore(
            [(r["rule"], r["subject"], r["level"], r["since_ns"], r["value"]) for r in firing],
            time.time_ns())
        if gone:
            self._unsaved += gone
            await self._save()
        self._active = tuple(self.engine.active())
        if firing:
            log.info("resumed %d alert(s) firing before the restart", len(firing) - len(gone))

    async def beat(self) -> None:
        """Record the hub's own heartbeat (validated like any sender's)."""
        body = (await self.own.body()).model_dump(mode="json")
        heartbeat_received(self.state, body, time.time_ns())

    async def evaluate(self) -> list[Transition]:
        """One round of lost detection and rule evaluation; returns the transitions."""
        now_ns = time.time_ns()
        await self.state.heartbeats.sync(now_ns)  # other hubs' heartbeats (shared state only)
        for view in self.state.heartbeats.check_lost(now_ns):
            log.warning("process %s (%s) lost: no heartbeat for %.1f s",
                        view["process_id"], view["role"], view["age_s"])
            self.state.bus.emit(ProcessLostEvent(process_id=view["process_id"], role=view["role"],
                                                 time_ns=now_ns))
        http = self.state.http_stats
        self.error_window.add(now_ns, http.requests, http.failures)
        cameras = await self.state.store.cameras()
        samples = build_samples(self.state, now_ns, self.error_window.percent(), cameras)
        transitions = self.engine.evaluate(samples, now_ns)
        self._active = tuple(self.engine.active())
        self.evaluations += 1
        for t in transitions:
            (log.warning if t.state == "firing" else log.info)("alert %s %s: %s", t.rule, t.state, t.message)
        shared = getattr(self.alert_log, "shared", False)
        if not shared:  # this hub's own log: announce at once, write (and retry) after
            self._announce(transitions)
        self._unsaved += transitions
        if self._unsaved:
            logged = await self._save()
            if shared:  # one log for every hub: announce what it took, not what another hub logged
                self._announce(logged)
        return transitions

    def _announce(self, transitions: list[Transition]) -> None:
        for t in transitions:
            self.state.bus.emit(AlertEvent(state=t.state, rule=t.rule, subject=t.subject, level=t.level,
                                           value=t.value, message=t.message, time_ns=t.time_ns))

    async def _save(self) -> list[Transition]:
        """Write the unsaved transitions; returns those the log took (none when it failed)."""
        try:
            logged = await asyncio.to_thread(self.alert_log.record, self._unsaved)
        except Exception as exc:  # sqlite3.Error, disk full, Redis down: keep them and retry next round
            log.warning("could not write %d alert log entries, retrying: %s", len(self._unsaved), exc)
            return []
        self._unsaved = []
        return logged

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_beat = loop.time()
        while True:
            started = loop.time()
            try:
                if started >= next_beat:
                    next_beat = started + self.own.interval_s
                    await self.beat()
                await self.evaluate()
            except REDIS_DOWN as exc:  # shared state unreachable: the next round tries again
                log.warning("monitor round skipped, Redis unavailable: %s", exc)
            except Exception:  # a bug here must not stop monitoring for good
                log.exception("monitor round failed")
            await asyncio.sleep(max(0.0, started + self.interval_s - loop.time()))

    async def flush(self) -> None:
        if self._unsaved:
            await self._save()


def host_cpu_percent(state) -> float | None:
    """The hub machine's CPU busy share, % (the sample its own heartbeat carries, so the cpu_high
    alert and whoever asks here see one figure); None before the monitor runs. Blocking psutil
    read at most once per half heartbeat interval: call from a thread."""
    monitor = getattr(state, "monitor", None)
    return None if monitor is None else monitor.own.host.sample().get("cpu_percent")


def install_monitoring(app: FastAPI) -> None:
    """Called by ``create_app`` once ``app.state.settings`` and ``app.state.metrics`` exist: loads the
    alert rules (a bad rule stops the hub here with a message naming it), and adds the heartbeat
    registry, the HTTP status counter and the scrape-time metrics collector.

    Raises:
        server.monitoring.alert_rules.AlertConfigError: unusable rule file or overrides.
    """
    settings = app.state.settings
    app.state.alert_rules = load_rules(settings.alert_rules_file, settings.alert_rules)
    app.state.heartbeats = HeartbeatRegistry(settings.heartbeat_lost_after)
    app.state.http_stats = HttpStats(app.state.metrics)
    app.add_middleware(HttpMetricsMiddleware, stats=app.state.http_stats)
    app.state.metrics.registry.register(HubStateCollector(app.state))


@contextlib.asynccontextmanager
async def run_monitor(app: FastAPI) -> AsyncIterator[HubMonitor]:
    """Within the lifespan, after the bus, ingest and store exist: opens the alert log, resumes
    firing alerts and runs the monitor until the lifespan ends."""
    settings = app.state.settings
    if getattr(app.state, "redis", None) is not None:  # heartbeats shared by every hub
        from server.shared_state.heartbeats import RedisHeartbeatRegistry

        app.state.heartbeats = RedisHeartbeatRegistry(settings.heartbeat_lost_after, app.state.redis)
    alert_log = await asyncio.to_thread(open_alert_log, settings.db_path, settings.redis_url)
    # Free disk is measured where the database lives: the disk the hub fills.
    disk = os.path.dirname(os.path.abspath(settings.db_path))
    own = await asyncio.to_thread(  # psutil baselines are /proc reads
        lambda: HeartbeatSource(hub_process_id(settings), "hub",
                                interval_s=settings.heartbeat_interval_s,
                                host=HostCollector(disk, max_age_s=settings.heartbeat_interval_s / 2)))
    monitor = HubMonitor(app.state, AlertEngine(app.state.alert_rules), alert_log, own,
                         interval_s=settings.monitor_interval_s)
    await monitor.restore()
    app.state.monitor = monitor
    try:
        async with background(monitor.run(), "hub-monitor"):
            yield monitor
    finally:
        await monitor.flush()
        await asyncio.to_thread(alert_log.close)

