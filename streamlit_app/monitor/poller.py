"""One monitor poller per dashboard process: every ``period_s`` it reads the hub's heartbeats,
cameras and alerts, samples this dashboard's own machine and process, and appends the figures
the Monitor page charts to bounded ring buffers (``History``)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import aiohttp

from formsync.heartbeat import process_id
from formsync.host import HostCollector
from formsync.hub_client import HubClient, HubRejected, HubUnreachable, open_session
from formsync.loop_wake import wake_loop
from formsync.process import ProcessCollector
from formsync.retry import reconnect_delays
from formsync.wire.monitoring import HeartbeatOut
from streamlit_app.models import HubConnection, LinkState
from streamlit_app.monitor.history import History
from streamlit_app.monitor.models import MonitorSnapshot

log = logging.getLogger("formsync.dashboard.monitor")

# Chart groups of the Monitor page: series per host, camera or process.
CHARTS = {
    "host_cpu": "CPU % per host",
    "host_memory": "memory % per host",
    "process_cpu": "CPU % per process (share of its machine)",
    "camera_fps": "hub fps per camera",
    "analysis_fps": "analysis fps per camera",
    "frame_age": "frame age per camera, ms",
}


class MonitorPoller:
    """Polls one hub from a named daemon thread (``monitor-poller:<host:port>``) with its own
    asyncio loop and aiohttp session.

    - Each round reads ``GET /api/v1/heartbeats``, ``/cameras`` and ``/alerts`` together, and
      samples this machine and process (psutil, in a worker thread: non-blocking, cached).
    - A failed round marks the hub unreachable (keeping the last answers, for context) and the
      next one waits with jittered exponential backoff, capped at ``reconnect_max_s``.
    - Chart figures go to ``history`` (``History``: ring buffers of ``history_window_s``).

    Readers on other threads get immutable snapshots (``snapshot()``). An exception that ends the
    thread is logged with its traceback and kept in ``error``.
    """

    def __init__(self, hub_url: str, *, period_s: float = 1.0, request_timeout_s: float = 2.0,
                 reconnect_max_s: float = 5.0, history_window_s: float = 600.0,
                 client_factory: Callable[[aiohttp.ClientSession, str], HubClient] = HubClient,
                 token=None) -> None:
        self.hub_url = hub_url.rstrip("/")
        self._token = token  # the viewer token, if the hub needs one (never logged)
        self.period_s = period_s
        self.request_timeout_s = request_timeout_s
        self.reconnect_max_s = reconnect_max_s
        self.client_factory = client_factory
        self.name = f"monitor-poller:{urlsplit(self.hub_url).netloc}"
        self.history = History(history_window_s, period_s)
        self.local_process_id = process_id("dashboard", "streamlit")
        self.error: BaseException | None = None
        self.rounds = 0
        self._cond = threading.Condition()
        self._snapshot = MonitorSnapshot(time.time_ns(), HubConnection(self.hub_url, LinkState.CONNECTING,
                                                                       time.time_ns()))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._host: HostCollector | None = None
        self._process: ProcessCollector | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> MonitorPoller:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        wake_loop(self._loop, self._wake)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- reading (any thread) --------------------------------------------------------------

    def snapshot(self) -> MonitorSnapshot:
        with self._cond:
            return self._snapshot

    def wait_for(self, predicate: Callable[[MonitorPoller], bool], timeout: float) -> bool:
        """Block until ``predicate(self)`` holds, re-checked after every round; False after ``timeout`` s."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout)

    # -- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            if not threading.main_thread().is_alive():
                # The process is exiting under this daemon thread: Python has already shut the
                # thread pools down, so the next to_thread fails. Nothing failed; nothing to say.
                return
            self.error = exc
            log.exception("%s failed", self.name)

    def _local(self) -> tuple[dict, dict]:
        if self._host is None:
            self._host = HostCollector(max_age_s=self.period_s / 2)
            self._process = ProcessCollector(max_age_s=self.period_s / 2)
        return self._host.sample(), self._process.sample()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._stop.is_set():
            return
        delays: Iterator[float] | None = None
        async with open_session(self._token, self.request_timeout_s) as session:
            client = self.client_factory(session, self.hub_url)
            while not self._stop.is_set():
                started = self._loop.time()
                ok = await self._round(client)
                if ok:
                    delays, pause = None, max(0.0, started + self.period_s - self._loop.time())
                else:
                    delays = delays or reconnect_delays(factor=0.25, max_value=self.reconnect_max_s)
                    pause = max(self.period_s, next(delays))
                try:
                    await asyncio.wait_for(self._wake.wait(), pause)
                except TimeoutError:
                    pass

    async def _round(self, client: HubClient) -> bool:
        local_host, local_process = await asyncio.to_thread(self._local)
        old = self.snapshot()
        now = time.time_ns()
        try:
            beats, cameras, alerts, leases = await asyncio.gather(client.heartbeats(), client.cameras(),
                                                                  client.alerts(), client.leases())
        except (HubUnreachable, HubRejected) as exc:
            conn = old.connection
            since = conn.since_ns if conn.state is LinkState.UNREACHABLE else now
            if conn.state is not LinkState.UNREACHABLE:
                log.warning("%s: hub %s unreachable (%s)", self.name, self.hub_url, exc)
            attempts = conn.attempts + 1 if conn.state is LinkState.UNREACHABLE else 1
            link = HubConnection(self.hub_url, LinkState.UNREACHABLE, since, str(exc), attempts)
            snap = MonitorSnapshot(now, link, old.processes, old.cameras, old.alerts, local_host,
                                   local_process, old.leases)
            self._record(snap, hub_ok=False)
            return False
        conn = old.connection
        if not conn.connected:
            conn = HubConnection(self.hub_url, LinkState.CONNECTED, now)
        snap = MonitorSnapshot(now, conn, tuple(beats.processes), tuple(cameras), alerts, local_host, local_process,
                               leases)
        self._record(snap, hub_ok=True)
        return True

    def _record(self, snap: MonitorSnapshot, hub_ok: bool) -> None:
        t = snap.taken_ns
        live = [p for p in snap.processes if not p.lost] if hub_ok else []
        hosts = _newest_hosts(live)
        if snap.local_host is not None:
            hosts.setdefault(snap.local_host["hostname"], snap.local_host)
        self.history.add("host_cpu", t, {h: s.get("cpu_percent") for h, s in hosts.items()})
        self.history.add("host_memory", t, {h: s.get("memory_percent") for h, s in hosts.items()})
        procs = {p.process_id: p.process.cpu_percent for p in live}
        if snap.local_process is not None:
            procs[self.local_process_id] = snap.local_process.get("cpu_percent")
        self.history.add("process_cpu", t, procs)
        if hub_ok:
            self.history.add("camera_fps", t, {c.camera_id: c.fps for c in snap.cameras})
            self.history.add("frame_age", t, {c.camera_id: c.age_ms for c in snap.cameras if c.online})
            fps: dict[str, float] = {}
            for p in live:
                for a in p.analysis:
                    fps[a.camera_id] = fps.get(a.camera_id, 0.0) + a.analysis_fps
            self.history.add("analysis_fps", t, fps)
        with self._cond:
            self._snapshot = snap
            self.rounds += 1
            self._cond.notify_all()


def _newest_hosts(processes: list[HeartbeatOut]) -> dict[str, dict]:
    """Hostname -> host sample of its newest heartbeat (several processes may share a machine)."""
    newest: dict[str, HeartbeatOut] = {}
    for p in processes:
        h = p.host.hostname
        if h not in newest or p.received_time_ns > newest[h].received_time_ns:
            newest[h] = p
    return {h: p.host.model_dump() for h, p in newest.items()}
