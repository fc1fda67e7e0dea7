"""One background poller per dashboard process: follows the hub's events and keeps, per camera,
the newest frame in a size-1 ``Latest`` queue that every browser session reads, plus the newest
synchronised set with all of its images."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from urllib.parse import urlsplit

import aiohttp

from formsync.hub_client import EventStream, HubClient, HubRejected, HubUnreachable, open_session
from formsync.loop_wake import wake_loop
from formsync.reference_bundle import BundleError, read_data
from formsync.retry import reconnect_delays
from formsync.wire.analysis import AnalysisOut
from formsync.wire.events import (
    AnalysisEvent,
    AnalysisStaleEvent,
    CameraOnlineEvent,
    CameraStaleEvent,
    Event,
    FrameEvent,
    ReferenceEvent,
    ReferenceJobEvent,
    SetEvent,
    SyncSetEvent,
    UnknownEventType,
    parse_event,
)
from formsync.wire.frames import CameraOut, FrameImage
from formsync.wire.references import ReferenceJob, ReferenceMeta
from formsync.wire.sets import SetOut
from formsync.wire.sync import SyncSetOut
from streamlit_app.latest import Latest
from streamlit_app.models import AnalysedFrame, HubConnection, LinkState, SetSaving, SyncedImages

log = logging.getLogger("formsync.dashboard.poller")

UNSAVED_RECHECK_S = 2.0
"""While the hub holds sets its database refused, re-read the history this often, s."""

TREND_POINTS = 600
"""Analysis results kept per camera for the Coach page's chart: 60 s at the 10 Hz a page reads."""

FRAME_DEMAND_S = 2.0
"""Frames (and synchronised sets' images) are downloaded only for this long after a reader last
asked for them: browsers get live frames from the hub directly (streamlit_app/live_view), and
nothing is fetched for a page nobody shows."""

REFERENCE_PICTURES = 1024
"""Reference pictures kept (~20 kB each): every frame of the three defaults' model reps."""
REFERENCE_ANGLE_SETS = 4
"""References whose angle curves are kept for the Coach page's chart."""


class HubPoller:
    """Follows one hub from a named daemon thread running its own asyncio loop and aiohttp session.

    - Frames and sets' images are fetched only while someone reads them (``frame(camera_id)`` or
      ``synced_images()`` in the last ``FRAME_DEMAND_S``): the pages show live frames through the
      hub's live socket and read results, not frames, here.
    - Subscribes to ``WS /api/v1/events``; each ``frame`` event of a camera being read marks it
      dirty and fetches ``GET /api/v1/cameras/{id}/frame`` with at most one fetch in flight per camera: events that
      arrive meanwhile only re-mark it, so a burst costs one more fetch, never a backlog. Fetches
      of one camera start at least ``fetch_interval_s`` apart (a 30 fps camera need not be pulled
      at 30 fps for a page that refreshes at 10 Hz, nor while nobody watches).
    - Re-reads ``GET /api/v1/cameras`` every ``cameras_refresh_s`` (and fetches any frame it
      missed).
    - Reads ``GET /api/v1/frames/sync`` for the online cameras on each ``sync_set`` event, and
      every ``sync_refresh_s`` in case events were dropped (or the hub sends none). When the set
      is new it fetches each of its frames by seq (``GET .../frames/{seq}``) and publishes the
      set with its images only once all of them arrived. Like frame fetches, at most one of these
      runs at a time, events meanwhile only re-mark it (one more run, never a backlog), and runs
      start at least ``fetch_interval_s`` apart.
    - Each ``analysis`` event fetches the camera's latest result, published with its reference
      picture as an ``AnalysedFrame`` in ``analysis(camera_id)``
      and appended to a bounded trend (``trend(camera_id)``); each ``set`` event refreshes the
      camera's live set (``live_set(camera_id)``) and, for a closed set, the history (``sets()``).
      Same rules as frames: one fetch in flight per key, events meanwhile only re-mark it.
    - References come from the hub: the list and the chosen one (``references()``,
      ``reference()``) are read on connecting and on each ``reference`` event; each analysed frame
      comes with the hub's picture of the reference frame matched to it (kept by reference, version
      and seq: a rep's pictures are fetched once); ``reference_angles(name, hash)`` holds a
      reference's joint-angle curves once fetched. Build jobs (``reference_job(job_id)``) follow
      the ``reference_job`` events.
    - On any failure it reports the hub unreachable (error and since when) and reconnects with
      jittered exponential backoff, capped at ``reconnect_max_s``.

    ``client_factory`` builds the ``HubClient`` (tests pass an instrumented one).

    Readers on other threads get immutable snapshots (``cameras()``, ``sync_set()``,
    ``synced_images()``, ``connection()``) and per-camera ``Latest`` queues (``frame(camera_id)``).
    An exception that ends the thread is logged with its traceback and kept in ``error``.
    """

    def __init__(self, hub_url: str, *, cameras_refresh_s: float = 0.5, sync_refresh_s: float = 0.2,
                 request_timeout_s: float = 2.0, reconnect_max_s: float = 5.0, fetch_interval_s: float = 0.0,
                 client_factory: Callable[[aiohttp.ClientSession, str], HubClient] = HubClient,
                 token=None) -> None:
        self.hub_url = hub_url.rstrip("/")
        self._token = token  # the viewer token, if the hub needs one (never logged)
        self.cameras_refresh_s = cameras_refresh_s
        self.sync_refresh_s = sync_refresh_s
        self.request_timeout_s = request_timeout_s
        self.reconnect_max_s = reconnect_max_s
        self.fetch_interval_s = fetch_interval_s
        self.client_factory = client_factory
        self.name = f"hub-poller:{urlsplit(self.hub_url).netloc}"
        self.error: BaseException | None = None
        # One condition guards every snapshot below and is notified on each change, so tests
        # (and anything else) can wait for a state instead of sleeping.
        self._cond = threading.Condition()
        self._frames: dict[str, Latest[FrameImage]] = {}
        self._analysis: dict[str, Latest[AnalysedFrame]] = {}
        self._live_sets: dict[str, Latest[SetOut]] = {}
        self._trends: dict[str, deque[AnalysisOut]] = {}
        self._sets: tuple[SetOut, ...] = ()
        self._set_saving = SetSaving()
        self._analysis_stale: dict[str, int] = {}
        self._reference: str | None = None
        self._references: tuple[ReferenceMeta, ...] = ()
        self._reference_jobs: Mapping[str, ReferenceJob] = MappingProxyType({})
        self._pictures: OrderedDict[tuple[str, str, int], bytes] = OrderedDict()  # loop only
        self._angles: OrderedDict[tuple[str, str], Mapping[int, Mapping[str, float]]] = OrderedDict()
        self._cameras: tuple[CameraOut, ...] = ()
        self._sync: SyncSetOut | None = None
        self._synced: SyncedImages | None = None
        self.sync_incomplete = 0
        self.frame_fetches: dict[str, int] = {}
        """Frame images downloaded per camera (latest frames and sets' frames)."""
        """Synchronised sets dropped because one of their frames had left the hub's ring."""
        self._connection = HubConnection(self.hub_url, LinkState.CONNECTING, time.time_ns())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        # Loop-only state (touched on the poller's own loop, never from other threads). Keys are
        # camera ids for frames, (kind, camera id) tuples for the rest.
        self._dirty: set = set()
        self._inflight: dict[object, asyncio.Task] = {}
        self._sync_dirty = False
        self._sync_task: asyncio.Task | None = None
        self._client: HubClient | None = None
        self._demand: dict[str, float] = {}  # camera id (or "" for synced images) -> monotonic s of last read

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> HubPoller:
        """Start the thread (once); returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to finish and wait up to ``timeout`` s for it."""
        self._stop.set()
        wake_loop(self._loop, self._wake)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- reading (any thread) --------------------------------------------------------------

    def connection(self) -> HubConnection:
        with self._cond:
            return self._connection

    def cameras(self) -> tuple[CameraOut, ...]:
        """Cameras from the last ``GET /api/v1/cameras``, sorted by id, with online flags
        updated by ``camera_online``/``camera_stale`` events since."""
        with self._cond:
            return self._cameras

    def sync_set(self) -> SyncSetOut | None:
        """The last synchronised set of the online cameras; None with fewer than two."""
        with self._cond:
            return self._sync

    def synced_images(self) -> SyncedImages | None:
        """The newest synchronised set whose images were all fetched, with those images; None
        before the first one and whenever ``sync_set()`` is None. It may lag ``sync_set()`` by a
        fetch, but its images always belong to its set."""
        with self._cond:
            self._demand[""] = time.monotonic()
            return self._synced

    def frame(self, camera_id: str) -> Latest[FrameImage]:
        """The camera's latest-frame queue (empty until its first frame is fetched); asking for it
        keeps its frames fetched for ``FRAME_DEMAND_S``."""
        with self._cond:
            self._demand[camera_id] = time.monotonic()
        return self._frame_slot(camera_id)

    def _wanted(self, key: str) -> bool:
        with self._cond:
            asked = self._demand.get(key)
        return asked is not None and time.monotonic() - asked < FRAME_DEMAND_S

    def _frame_slot(self, camera_id: str) -> Latest[FrameImage]:
        with self._cond:
            latest = self._frames.get(camera_id)
            if latest is None:
                latest = self._frames[camera_id] = Latest()
            return latest

    def analysis(self, camera_id: str) -> Latest[AnalysedFrame]:
        """The camera's latest analysis result with its frame (empty until the first)."""
        return self._slot(self._analysis, camera_id)

    def live_set(self, camera_id: str) -> Latest[SetOut]:
        """The camera's set in progress, or its last closed one (empty until the first)."""
        return self._slot(self._live_sets, camera_id)

    def trend(self, camera_id: str) -> tuple[AnalysisOut, ...]:
        """The camera's last ``TREND_POINTS`` analysis results, oldest first."""
        with self._cond:
            return tuple(self._trends.get(camera_id, ()))

    def sets(self) -> tuple[SetOut, ...]:
        """Closed sets, newest first (the last 20)."""
        with self._cond:
            return self._sets

    def set_saving(self) -> SetSaving:
        """Closed sets the hub could not write to its database yet, and why (re-read every 2 s
        while there are any)."""
        with self._cond:
            return self._set_saving

    def analysis_stale_since(self, camera_id: str) -> int | None:
        """When (this machine's clock, ns) the camera's last analysis result arrived at the hub, if
        the hub reported its results stale (worker stopped or far behind); None while fresh."""
        with self._cond:
            return self._analysis_stale.get(camera_id)

    def reference(self) -> str | None:
        """The reference chosen on the hub; None while the workers use their default."""
        with self._cond:
            return self._reference

    def references(self) -> tuple[ReferenceMeta, ...]:
        """The references stored on the hub, by name."""
        with self._cond:
            return self._references

    def reference_job(self, job_id: str) -> ReferenceJob | None:
        """A build job's latest state (from its events), None before the poller heard of it."""
        with self._cond:
            return self._reference_jobs.get(job_id)

    def reference_angles(self, name: str, content_hash: str | None) -> Mapping[int, Mapping[str, float]] | None:
        """Reference seq -> joint angles (degrees, by name) of reference ``name``: of version
        ``content_hash`` when held, else of the newest version held (a result scored against a
        version just replaced still gets a curve); None until one is fetched, which this starts
        (callable from any thread). A ``reference`` event that stores ``name`` again drops them."""
        with self._cond:
            held = [(version, angles) for (have, version), angles in self._angles.items() if have == name]
            for version, angles in reversed(held):
                if content_hash is None or version == content_hash:
                    return angles
            if held:
                return held[-1][1]
        loop, client = self._loop, self._client
        if loop is not None and client is not None:
            try:
                loop.call_soon_threadsafe(self._want, ("reference-data", name),
                                          lambda: self._fetch_reference_angles(name, client))
            except RuntimeError:  # the poller's loop has ended
                pass
        return None

    def _slot(self, slots: dict, camera_id: str) -> Latest:
        with self._cond:
            latest = slots.get(camera_id)
            if latest is None:
                latest = slots[camera_id] = Latest()
            return latest

    def wait_for(self, predicate: Callable[[HubPoller], bool], timeout: float) -> bool:
        """Block until ``predicate(self)`` holds, re-checked on every state change; False after
        ``timeout`` seconds."""
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

    def _update(self, **fields) -> None:
        with self._cond:
            for name, value in fields.items():
                setattr(self, f"_{name}", value)
            self._cond.notify_all()

    def _set_link(self, state: LinkState, error: str | None = None) -> None:
        with self._cond:
            old = self._connection
            if state is LinkState.UNREACHABLE:
                since = old.since_ns if old.state is LinkState.UNREACHABLE else time.time_ns()
                self._connection = HubConnection(self.hub_url, state, since, error, old.attempts + 1)
            else:
                self._connection = HubConnection(self.hub_url, state, time.time_ns())
            self._cond.notify_all()
        if state is LinkState.CONNECTED:
            log.info("%s: connected to %s", self.name, self.hub_url)
        elif old.state is not LinkState.UNREACHABLE:
            log.warning("%s: hub %s unreachable (%s); retrying with backoff", self.name, self.hub_url, error)
        else:
            log.debug("%s: still unreachable: %s", self.name, error)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._stop.is_set():
            return
        async with open_session(self._token, self.request_timeout_s) as session:
            client = self._client = self.client_factory(session, self.hub_url)
            delays: Iterator[float] | None = None
            while not self._stop.is_set():
                try:
                    await self._follow(client)
                    error = "event stream closed by the hub"
                except (HubUnreachable, HubRejected) as exc:
                    error = str(exc)
                if self._stop.is_set():
                    break
                # A link that worked starts the backoff afresh; repeated failures keep growing it.
                if delays is None or self.connection().connected:
                    delays = reconnect_delays(factor=0.25, max_value=self.reconnect_max_s)
                self._set_link(LinkState.UNREACHABLE, error)
                try:
                    await asyncio.wait_for(self._wake.wait(), next(delays))
                except TimeoutError:
                    pass

    async def _follow(self, client: HubClient) -> None:
        """Follow the hub until stop; raises HubUnreachable/HubRejected when it cannot connect
        or the link fails."""
        async with client.events(heartbeat_s=5.0) as stream:
            await self._follow_stream(stream, client)

    async def _follow_stream(self, stream: EventStream, client: HubClient) -> None:
        tasks: list[asyncio.Task] = []
        try:
            # Read the camera list before saying "connected", so after a hub restart a page
            # never shows a connected hub with yesterday's cameras.
            await self._refresh_cameras(client)
            await asyncio.gather(self._refresh_history(client), self._refresh_references(client))
            self._set_link(LinkState.CONNECTED)
            tasks = [
                asyncio.create_task(self._read_events(stream, client), name="events"),
                asyncio.create_task(self._every(self.cameras_refresh_s, self._refresh_cameras, client),
                                    name="cameras"),
                asyncio.create_task(self._every(self.sync_refresh_s, self._poll_sync, client),
                                    name="sync"),
                asyncio.create_task(self._every(UNSAVED_RECHECK_S, self._recheck_unsaved, client),
                                    name="unsaved-sets"),
                asyncio.create_task(self._wake.wait(), name="stop"),
            ]
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.exception() is not None:
                    raise task.exception()
        finally:
            workers = [*self._inflight.values(), *([self._sync_task] if self._sync_task else [])]
            for task in [*tasks, *workers]:
                task.cancel()
            await asyncio.gather(*tasks, *workers, return_exceptions=True)
            self._inflight.clear()
            self._dirty.clear()
            self._sync_task, self._sync_dirty = None, False

    @staticmethod
    async def _every(interval_s: float, job, client: HubClient) -> None:
        while True:
            await asyncio.sleep(interval_s)
            await job(client)

    async def _read_events(self, stream: EventStream, client: HubClient) -> None:
        async for text in stream:
            try:
                event = parse_event(text)
            except UnknownEventType:
                continue  # a newer hub's event: nothing this page shows
            except ValueError:
                log.warning("%s: ignoring a malformed event: %.200r", self.name, text)
                continue
            self._on_event(event, client)
        raise HubUnreachable(f"event stream closed by the hub (code {stream.close_code})")

    def _on_event(self, event: Event, client: HubClient) -> None:
        if isinstance(event, SyncSetEvent):
            # The event names the set but lacks the frames' clock offsets and sizes; reading it
            # from /frames/sync gets them all (usually this very set).
            self._want_sync(client)
        elif isinstance(event, ReferenceEvent):
            if event.change == "chosen":
                self._update(reference=event.name)
            else:
                with self._cond:
                    for key in [k for k in self._angles if k[0] == event.name]:
                        del self._angles[key]
            self._want(("references",), lambda: self._refresh_references(client))
        elif isinstance(event, ReferenceJobEvent):
            self._store_job(event.job)
        elif isinstance(event, AnalysisStaleEvent):
            self._mark_analysis_stale(event.camera_id, event)
        elif isinstance(event, AnalysisEvent):
            camera_id = event.camera_id
            self._mark_analysis_stale(camera_id, None)
            self._want(("analysis", camera_id), lambda: self._fetch_analysis(camera_id, client))
        elif isinstance(event, SetEvent):
            camera_id = event.camera_id
            self._want(("set", camera_id), lambda: self._fetch_live_set(camera_id, client))
        elif isinstance(event, FrameEvent):
            if not self._wanted(event.camera_id):
                return
            _, have = self._frame_slot(event.camera_id).read()
            # A fetch may already have brought this frame or a newer one.
            if have is None or event.capture_time_ns > have.capture_time_ns:
                self._want_frame(event.camera_id, client)
        elif isinstance(event, (CameraOnlineEvent, CameraStaleEvent)):
            camera_id, online = event.camera_id, isinstance(event, CameraOnlineEvent)
            with self._cond:
                self._cameras = tuple(
                    c.model_copy(update={"online": online}) if c.camera_id == camera_id else c
                    for c in self._cameras
                )
                self._cond.notify_all()

    def _want_frame(self, camera_id: str, client: HubClient) -> None:
        self._want(camera_id, lambda: self._fetch_frame(camera_id, client))

    def _want(self, key, job: Callable) -> None:
        """Mark ``key`` dirty and make sure one task runs ``job`` until it stays clean."""
        self._dirty.add(key)
        if key not in self._inflight:
            self._inflight[key] = asyncio.create_task(self._drain(key, job), name=f"fetch:{key}")

    async def _drain(self, key, job: Callable) -> None:
        """Run ``job`` until no event marked ``key`` dirty during the last run."""
        try:
            loop = asyncio.get_running_loop()
            while key in self._dirty:
                self._dirty.discard(key)
                started = loop.time()
                await job()
                # Events during this pause only re-mark the key: still one run after it.
                await asyncio.sleep(max(0.0, started + self.fetch_interval_s - loop.time()))
        except (HubUnreachable, HubRejected) as exc:
            # The event stream or the next refresh notices a dead hub; one failed fetch alone
            # is not worth reconnecting for.
            log.debug("%s: fetching %s failed: %s", self.name, key, exc)
        except Exception:
            log.exception("%s: fetching %s failed", self.name, key)
        finally:
            self._inflight.pop(key, None)

    def _count_fetch(self, camera_id: str) -> None:
        self.frame_fetches[camera_id] = self.frame_fetches.get(camera_id, 0) + 1

    async def _fetch_frame(self, camera_id: str, client: HubClient) -> None:
        self._count_fetch(camera_id)
        frame = await client.latest_frame(camera_id)
        if frame is not None:
            self._store_frame(frame)

    async def _fetch_analysis(self, camera_id: str, client: HubClient) -> None:
        result = await client.analysis(camera_id)
        latest = self.analysis(camera_id)
        _, have = latest.read()
        if result is None or (have is not None and have.analysis.seq == result.seq):
            return
        picture = await self._reference_picture(client, result)
        latest.put(AnalysedFrame(result, picture))
        with self._cond:
            self._trends.setdefault(camera_id, deque(maxlen=TREND_POINTS)).append(result)
            self._cond.notify_all()

    async def _fetch_live_set(self, camera_id: str, client: HubClient) -> None:
        live = await client.live_set(camera_id)
        if live is None:
            return
        self.live_set(camera_id).put(live)
        if live.status == "closed":
            await self._refresh_history(client)
        with self._cond:
            self._cond.notify_all()

    async def _refresh_history(self, client: HubClient) -> None:
        listed, reference = await asyncio.gather(client.sets(20), client.reference())
        self._update(sets=tuple(listed.sets), reference=reference.name,
                     set_saving=SetSaving(listed.unsaved, listed.persist_error))

    async def _refresh_references(self, client: HubClient) -> None:
        listed, jobs = await asyncio.gather(client.references(), client.reference_jobs())
        with self._cond:
            self._references = tuple(listed.references)
            self._reference = listed.chosen
        for job in jobs:  # events may be newer than the list: each job keeps its later state
            self._store_job(job)

    def _store_job(self, job: ReferenceJob) -> None:
        with self._cond:
            have = self._reference_jobs.get(job.job_id)
            if have is None or have.updated_time_ns <= job.updated_time_ns:
                self._reference_jobs = MappingProxyType({**self._reference_jobs, job.job_id: job})
            self._cond.notify_all()

    async def _reference_picture(self, client: HubClient, result: AnalysisOut) -> bytes | None:
        """The hub's picture of the reference frame ``result`` was matched to, if it belongs to the
        version the result was scored against (a rebuilt reference's new pictures are not the
        frames of the old one)."""
        if result.reference is None or result.reference_seq is None:
            return None
        key = (result.reference, result.reference_hash or "", result.reference_seq)
        jpeg = self._pictures.get(key)
        if jpeg is not None:
            self._pictures.move_to_end(key)
            return jpeg
        picture = await client.reference_picture(result.reference, result.reference_seq)
        if picture is None or (result.reference_hash and picture.content_hash != result.reference_hash):
            return None
        self._pictures[key] = picture.jpeg
        while len(self._pictures) > REFERENCE_PICTURES:
            self._pictures.popitem(last=False)
        return picture.jpeg

    async def _fetch_reference_angles(self, name: str, client: HubClient) -> None:
        meta, data = await asyncio.gather(client.reference_meta(name), client.reference_data(name))
        if meta is None or data is None or data.content_hash != meta.content_hash:
            return  # unknown, or replaced between the two reads: the next page run asks again
        try:
            angles = await asyncio.to_thread(_angles_by_seq, data.data, tuple(meta.angle_names))
        except BundleError as exc:
            log.warning("%s: reference %r has unreadable data: %s", self.name, name, exc)
            return
        with self._cond:
            self._angles[(name, data.content_hash)] = angles
            while len(self._angles) > REFERENCE_ANGLE_SETS:
                self._angles.popitem(last=False)
            self._cond.notify_all()

    async def _recheck_unsaved(self, client: HubClient) -> None:
        # Only while the hub holds unsaved sets: the read also makes it retry the write.
        if self.set_saving().unsaved:
            await self._refresh_history(client)

    def _mark_analysis_stale(self, camera_id: str, event: AnalysisStaleEvent | None) -> None:
        with self._cond:
            if event is None:
                if self._analysis_stale.pop(camera_id, None) is None:
                    return
            else:
                # The hub says how old the result was (its own clock, both times): anchor that age
                # on this machine's clock, which may differ from the hub's.
                age_ns = event.time_ns - event.last_result_ns
                self._analysis_stale[camera_id] = time.time_ns() - max(0, int(age_ns))
            self._cond.notify_all()

    def _store_frame(self, frame: FrameImage) -> None:
        latest = self._frame_slot(frame.camera_id)
        _, have = latest.read()
        if have is not None and (have.seq, have.capture_time_ns) == (frame.seq, frame.capture_time_ns):
            return  # the same frame again: no new version, sessions need not re-render
        latest.put(frame)
        with self._cond:
            self._cond.notify_all()

    async def _refresh_cameras(self, client: HubClient) -> None:
        cameras = tuple(await client.cameras())
        self._update(cameras=cameras)
        # Covers frames whose events were dropped (slow subscriber) or sent before we subscribed.
        for cam in cameras:
            if not self._wanted(cam.camera_id):
                continue
            _, have = self._frame_slot(cam.camera_id).read()
            if have is None or have.capture_time_ns < cam.last_capture_time_ns:
                self._want_frame(cam.camera_id, client)

    async def _poll_sync(self, client: HubClient) -> None:
        self._want_sync(client)

    def _want_sync(self, client: HubClient) -> None:
        self._sync_dirty = True
        if self._sync_task is None:
            self._sync_task = asyncio.create_task(self._fetch_sync(client), name="fetch:sync")

    async def _fetch_sync(self, client: HubClient) -> None:
        """Refresh the synchronised set until nothing re-marked it during the last refresh."""
        try:
            loop = asyncio.get_running_loop()
            while self._sync_dirty:
                self._sync_dirty = False
                started = loop.time()
                await self._refresh_sync(client)
                await asyncio.sleep(max(0.0, started + self.fetch_interval_s - loop.time()))
        except (HubUnreachable, HubRejected) as exc:
            # As for frames: the event stream or the camera refresh notices a dead hub.
            log.debug("%s: reading the synchronised set failed: %s", self.name, exc)
        except Exception:
            log.exception("%s: reading the synchronised set failed", self.name)
        finally:
            self._sync_task = None

    async def _refresh_sync(self, client: HubClient) -> None:
        # Only online cameras: a stale camera's last frame would anchor the set seconds ago.
        online = [c.camera_id for c in self.cameras() if c.online]
        sync = await client.sync_set(online) if len(online) >= 2 else None
        if sync is None:
            self._update(sync=None, synced=None)
            return
        self._update(sync=sync)
        if not self._wanted(""):
            return
        with self._cond:
            have = self._synced
        if have is not None and have.sync_set.key == sync.key:
            return
        for f in sync.frames:
            self._count_fetch(f.camera_id)
        results = await asyncio.gather(*(client.frame(f.camera_id, f.seq) for f in sync.frames),
                                       return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        images = {f.camera_id: img for f, img in zip(sync.frames, results)
                  if img is not None and (img.seq, img.capture_time_ns) == (f.seq, f.capture_time_ns)}
        if len(images) < len(sync.frames):
            # A frame left the ring (or its camera restarted) before we asked: showing the set
            # with a newer image in its place would show cameras at different moments.
            self.sync_incomplete += 1
            log.debug("%s: set %s incomplete, got %s", self.name, sync.key, sorted(images))
            return
        self._update(synced=SyncedImages(sync, MappingProxyType(images)))


def _angles_by_seq(data: bytes, names: tuple[str, ...]) -> Mapping[int, Mapping[str, float]]:
    """seq -> {angle name: degrees} from a reference's per-frame data. Raises BundleError."""
    arrays = read_data(data)
    try:
        seqs, angles = arrays["seq"], arrays["angles"]
    except KeyError as exc:
        raise BundleError("invalid_data", f"no {exc} array") from None
    if angles.ndim != 2 or angles.shape != (len(seqs), len(names)):
        raise BundleError("invalid_data", f"angles are {angles.shape}, not ({len(seqs)}, {len(names)})")
    return MappingProxyType({int(s): MappingProxyType(dict(zip(names, map(float, row))))
                             for s, row in zip(seqs, angles)})
