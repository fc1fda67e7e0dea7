"""Heartbeats: every ``interval_s`` a process posts its host's and its own health, plus whatever its
role adds (cameras of a client, per-camera analysis of a worker), to ``POST /api/v1/heartbeats``.

The hub keeps the latest heartbeat per process and marks one that missed 3 intervals as lost
(docs/api.md). Body: ``formsync.wire.monitoring.HeartbeatIn``, e.g.::

    {"process_id": "client:cam-pc:front+side", "role": "client", "interval_s": 2.0,
     "sent_time_ns": ..., "host": {HostCollector fields}, "process": {ProcessCollector fields},
     "cameras": [...], "analysis": [...]}
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from formsync.host import HostCollector
from formsync.hub_client import HubClient, HubRejected, HubUnreachable, open_session
from formsync.loop_wake import wake_loop
from formsync.process import ProcessCollector
from formsync.wire.monitoring import HeartbeatIn

log = logging.getLogger("formsync.monitoring.heartbeat")

DEFAULT_INTERVAL_S = 2.0
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.@+-]")


def process_id(role: str, *parts: str) -> str:
    """A stable, URL-safe id: ``role:hostname:part+part``, e.g. ``client:cam-pc:front+side``.

    Stable across restarts of the same program on the same machine, so a restarted client
    replaces its old entry at the hub instead of leaving a lost one behind. At most 128 chars.
    """
    host = _ID_UNSAFE.sub("-", socket.gethostname()) or "host"
    tail = "+".join(_ID_UNSAFE.sub("-", p) for p in parts if p)
    return ":".join(x for x in (role, host, tail) if x)[:128]


class HeartbeatSource:
    """What one process reports in each heartbeat.

    Args:
        process_id: this process's id at the hub (``process_id()``).
        role: ``client``, ``worker``, ``hub`` or ``dashboard``.
        build: returns the role's extra fields of ``HeartbeatIn`` (``cameras``, ``analysis``,
            ``worker``: models or their dicts); called on the event loop that sends, so it may
            read loop-owned state; must be quick.
        interval_s: seconds between heartbeats (0.1-60).
        host, process: collectors (default: this machine and this process, cached for half an
            interval so each heartbeat carries a fresh sample).
    """

    def __init__(self, process_id: str, role: str, build: Callable[[], dict[str, Any]] | None = None,
                 interval_s: float = DEFAULT_INTERVAL_S, host: HostCollector | None = None,
                 process: ProcessCollector | None = None) -> None:
        if not 0.1 <= interval_s <= 60:
            raise ValueError("interval_s must be within 0.1-60 s")
        self.process_id = process_id
        self.role = role
        self.build = build
        self.interval_s = interval_s
        self.host = host or HostCollector(max_age_s=interval_s / 2)
        self.process = process or ProcessCollector(max_age_s=interval_s / 2)

    def machine(self) -> dict[str, Any]:
        """Host and process samples (blocking psutil reads: call from a thread)."""
        return {"host": self.host.sample(), "process": self.process.sample()}

    async def body(self) -> HeartbeatIn:
        """One heartbeat; psutil runs in a worker thread. Raises ``pydantic.ValidationError``
        when a figure is out of its bounds (the hub would refuse it)."""
        extra: dict[str, Any] = {}
        if self.build is not None:
            try:
                extra = self.build()
            except Exception:  # a bug in the role's fields must not stop the host/process beat
                log.exception("heartbeat fields of %s failed; sending host and process only", self.process_id)
        machine = await asyncio.to_thread(self.machine)
        return HeartbeatIn(process_id=self.process_id, role=self.role, interval_s=self.interval_s,
                           sent_time_ns=time.time_ns(), **machine, **extra)


class HeartbeatSender:
    """Posts a source's heartbeats to ``POST {hub_url}/api/v1/heartbeats`` until cancelled.
    Hub trouble is logged once per outage and retried at the next interval.

    ``token``: the process's camera or worker token (formsync/auth.py), for ``serve``'s own
    session; never logged."""

    def __init__(self, source: HeartbeatSource, hub_url: str, token=None, fallback_hub_urls=()) -> None:
        self.source = source
        self.hub_url = hub_url.rstrip("/")
        # Hubs sharing their state (Redis): a heartbeat that fails goes to the next one next time.
        self.hub_urls = list(dict.fromkeys([self.hub_url, *(u.rstrip("/") for u in fallback_hub_urls)]))
        self.token = token
        self.sent = 0
        self.failed = 0
        self.last_error: str | None = None

    @property
    def process_id(self) -> str:
        return self.source.process_id

    @property
    def interval_s(self) -> float:
        return self.source.interval_s

    async def send_once(self, hub: HubClient) -> bool:
        """One heartbeat; True when the hub accepted it. Never raises for hub trouble."""
        try:
            await hub.post_heartbeat(await self.source.body())
        except (HubUnreachable, HubRejected, ValidationError) as exc:
            self.failed += 1
            error = f"{type(exc).__name__}: {exc}"
            if self.last_error is None:  # once per outage, not every 2 s
                log.warning("heartbeat to %s failed (%.300s); still trying every %.1f s",
                            hub.base, error, self.interval_s)
            self.last_error = error
            return False
        if self.last_error is not None:
            log.info("heartbeats to %s flowing again", hub.base)
        self.last_error = None
        self.sent += 1
        return True

    async def goodbye(self, hub: HubClient, timeout_s: float = 1.0) -> bool:
        """Tell the hub this process stops on purpose (``DELETE /api/v1/heartbeats/{id}``), so a
        deliberate stop is not reported as lost. Best effort; True when the hub forgot it."""
        try:
            return await hub.forget_process(self.process_id, timeout_s=timeout_s)
        except (HubUnreachable, HubRejected):
            return False

    async def run(self, hub: HubClient | list[HubClient]) -> None:
        """Send at once, then every ``interval_s`` (measured start to start) until cancelled; with
        several hubs, the next after each failure."""
        hubs = hub if isinstance(hub, list) else [hub]
        self._current = hubs[0]
        loop = asyncio.get_running_loop()
        index = 0
        while True:
            started = loop.time()
            self._current = hubs[index]
            if not await self.send_once(hubs[index]):
                index = (index + 1) % len(hubs)
            await asyncio.sleep(max(0.0, started + self.interval_s - loop.time()))

    async def serve(self, timeout_s: float = 5.0, goodbye: bool = True) -> None:
        """``run`` on a session of its own (each request bounded by ``timeout_s``) until cancelled;
        then, with ``goodbye``, tell the hub the stop is deliberate."""
        async with open_session(self.token, timeout_s) as session:
            hubs = [HubClient(session, url) for url in self.hub_urls]
            self._current = hubs[0]
            try:
                await self.run(hubs)
            finally:
                if goodbye:
                    await self.goodbye(self._current)


class HeartbeatThread(threading.Thread):
    """Runs a ``HeartbeatSender`` on its own thread, event loop and session, for programs
    that are not asyncio themselves (the camera client). Thread named ``heartbeat:<process_id>``.

    ``stop()`` ends it within a moment: the pending request is cancelled and, with ``goodbye``,
    the hub is told the stop is deliberate (at most 1 s more).
    """

    def __init__(self, sender: HeartbeatSender, timeout_s: float = 5.0, goodbye: bool = True) -> None:
        super().__init__(name=f"heartbeat:{sender.process_id}", daemon=True)
        self.sender = sender
        self.timeout_s = timeout_s
        self.goodbye = goodbye
        self.error: BaseException | None = None
        self._stop_event = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    def stop(self, timeout: float = 2.0) -> None:
        self._stop_event.set()
        wake_loop(self._loop, self._wake)
        if self is not threading.current_thread() and self.is_alive():
            self.join(timeout)

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self.error = exc
            log.exception("%s failed", self.name)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._stop_event.is_set():
            return
        beats = asyncio.create_task(self.sender.serve(self.timeout_s, self.goodbye), name="heartbeat")
        await self._wake.wait()
        beats.cancel()
        await asyncio.gather(beats, return_exceptions=True)
