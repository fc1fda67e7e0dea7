"""Analysis worker process: follows the hub's events and analyses only each camera's newest frame.

``python -m analysis.worker --hub http://127.0.0.1:8000``

Inference never runs on the hub's event loop (it is a separate process) nor on this worker's
loop: each camera has one analysis thread (``analysis:<id>``) owning its stateful analyser. When
analysis is slower than the camera, frames that arrived meanwhile are skipped and counted; there is
never a backlog (at most one frame per camera is in analysis, and the next one fetched is the newest).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
from pydantic import SecretStr, ValidationError

from analysis.heartbeat import send_heartbeats
from analysis.leases import CameraLeases
from analysis.reference_jobs import ReferenceBuilder
from analysis.set_outbox import SetOutbox, SetSpool, default_spool_dir
from analysis.sets import VIEWS, SetTracker, fault_to_wire, set_to_wire
from analysis.worker_references import WorkerReferences
from formsync.auth import WORKER_TOKEN_ENV, token_from_env
from formsync.hub_client import HubClient, HubRejected, HubUnreachable, open_session
from formsync.retry import reconnect_delays
from formsync.wire.analysis import AnalysisIn
from formsync.wire.events import (
    CameraStaleEvent,
    Event,
    FrameEvent,
    GazeCalibrateEvent,
    ReferenceEvent,
    ReferenceJobEvent,
    parse_event,
)
from formsync.wire.leases import LEASE_TTL_MS
from formsync.wire.sets import SetIn

log = logging.getLogger("formsync.worker")

WORKER_EVENT_TYPES = frozenset({"frame", "camera_stale", "reference", "reference_job", "gaze_calibrate"})
"""The events a worker follows (``formsync.wire.events``)."""


class FrameAnalyzer(Protocol):
    """Stateful per-camera analyser. Called from the camera's analysis thread only."""

    def analyze(self, image_bgr: np.ndarray, *, seq: int, capture_time_ns: int) -> dict[str, Any]:
        """Return ``AnalysisResult.to_dict()`` (``analysis/session.py``): the worker maps it onto
        ``formsync.wire.analysis.AnalysisIn`` (``to_wire``)."""

    def close(self) -> None: ...

    # Optional: ``warm_up()`` loads the analyser's models now (before its first frame).


class SetAnalyzer(FrameAnalyzer, Protocol):
    """A ``FrameAnalyzer`` that also keeps sets (``session.PoseAnalyzer``); the worker then reports
    each camera's sets to the hub (``analysis.sets``)."""

    def summary(self) -> dict[str, Any]: ...

    def start_new_set(self, reset_motion: bool = False) -> None: ...


def to_wire(result: dict[str, Any], rep_scores: list[float]) -> dict[str, Any]:
    """Map ``AnalysisResult.to_dict()`` onto ``AnalysisIn``'s result fields (the worker adds seq,
    times, skipped frames and its id). ``rep_scores`` collects per-rep scores across calls.
    Raises ``pydantic.ValidationError`` for a value the contract does not allow."""
    rep = result.get("rep")
    if rep and rep.get("score") is not None:
        rep_scores.append(float(rep["score"]))
        del rep_scores[:-100]  # a long set must not grow the worker
    angles = {k: float(v) for k, v in (result.get("angles") or {}).items() if v is not None and v == v}
    return {
        "pose_found": bool(result.get("pose_found")),
        "landmarks": result.get("landmarks"),
        "world_landmarks": result.get("world_landmarks"),
        "angles": angles,
        "view": result.get("view") if result.get("view") in VIEWS else "unknown",
        "score": result.get("score"),
        "reference_seq": result.get("reference_seq"),
        "reference": result.get("reference"),
        "reference_hash": result.get("reference_hash"),
        "rep": {"count": int(result.get("rep_count", 0)), "phase": result.get("rep_phase", "unknown"),
                "rep_scores": rep_scores[-100:]},
        "faults": [fault_to_wire(f) for f in result.get("faults", [])][:32],
        "gaze": result.get("gaze"),  # analysis.combined: GazeOut's fields, validated with the result
    }


@dataclass
class CameraTrack:
    """Scheduling state of one camera in the worker (touched on the worker's event loop only)."""

    camera_id: str
    executor: ThreadPoolExecutor
    analyzer: FrameAnalyzer | None = None
    busy: bool = False
    events_since_start: int = 0
    analysed: int = 0
    skipped: int = 0
    last_seq: int = -1
    latencies_ms: list[float] = field(default_factory=list)
    rep_scores: list[float] = field(default_factory=list)
    rejected: int = 0
    sets: SetTracker | None = None
    last_capture_ns: int = 0
    warming: bool = False  # models being loaded ahead of a takeover


class AnalysisWorker:
    """Args:
        hub_url: hub base URL, or several hubs sharing their state in Redis, in order of
            preference: when the one followed is unreachable the worker moves to the next at once,
            backing off only once none answered (its cameras' leases and sets are in Redis, so
            any hub carries on with them).
        make_analyzer: builds a fresh analyser for a camera id (called on that camera's thread).
        worker_id: reported with every result.
        rest_s: pause that ends a set (``analysis.sets``), seconds of capture time.
        references: the hub's references to score against (``analysis.worker_references``), read
            at every connection and again when the hub announces a change (``reference`` event);
            None: analysers keep whatever reference they have.
        build_references: take reference build jobs from the hub (``analysis.reference_jobs``).
        token: worker token (default: ``FORMSYNC_WORKER_TOKEN``).
        spool_dir: where closed sets wait until the hub acknowledges them
            (default ``analysis.set_outbox.default_spool_dir``).
        max_cameras: most cameras this worker analyses at once (``analysis.leases``).
        lease_ttl_ms: lifetime of its camera leases, ms: a dead worker's cameras are taken over
            about this long after its last renewal.

    A camera is analysed only while the worker holds its lease (``analysis.leases``): the hub
    shares the cameras among its workers, the least loaded first. A camera whose lease is lost
    (another worker took it over) is no longer analysed here and its set in progress is dropped
    (the hub closed it as ``worker_lost``); one given up because the hub stopped answering closes
    its set here as ``worker_lost``; a camera that turns stale, or every camera when the worker
    stops, ends its set and releases the lease.

    Each camera's sets leave through its ``SetOutbox`` (one sender task: in order, exactly once,
    retried through hub outages). The event follower survives anything: a malformed event is
    counted and skipped, any other failure restarts it with backoff, and ``following`` /
    ``follow_error`` say whether it currently follows the hub (reported in the heartbeat).
    """

    def __init__(self, hub_url: str | Sequence[str], make_analyzer: Callable[[str], FrameAnalyzer],
                 worker_id: str = "worker",
                 rest_s: float = 10.0, references: WorkerReferences | None = None, build_references: bool = False,
                 token: SecretStr | str | None = None, spool_dir: Path | None = None, max_cameras: int = 8,
                 lease_ttl_ms: int = LEASE_TTL_MS) -> None:
        urls = [hub_url] if isinstance(hub_url, str) else list(hub_url)
        if not urls:
            raise ValueError("at least one hub URL")
        self.hub_urls = [u.rstrip("/") for u in urls]
        self.hub_url = self.hub_urls[0]
        # Worker token (server/auth.py): default FORMSYNC_WORKER_TOKEN; sent on every request.
        self.token = token if token is not None else token_from_env(WORKER_TOKEN_ENV)
        self.make_analyzer = make_analyzer
        self.worker_id = worker_id
        self.rest_s = rest_s
        self.references = references
        self.builder = ReferenceBuilder(worker_id) if build_references else None
        self._references_dirty = False
        self._references_task: asyncio.Task | None = None
        self.tracks: dict[str, CameraTrack] = {}
        self.connected = asyncio.Event()
        self.spool = SetSpool(spool_dir or default_spool_dir(worker_id, self.hub_url))
        self.outboxes: dict[str, SetOutbox] = {}
        self.following = False
        self.follow_error: str | None = None
        self.bad_events = 0
        self.follower_restarts = 0
        self._bad_event_types: set[str] = set()
        self._tasks: set[asyncio.Task] = set()
        self._senders: list[asyncio.Task] = []
        self._hub: HubClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.stuck_threads: list[str] = []
        self.leases = CameraLeases(worker_id, max_cameras, lease_ttl_ms, on_granted=self._on_granted,
                                   on_lost=self._on_lost, on_cut_off=self._on_cut_off,
                                   on_overdue=self._on_overdue)

    async def run(self, stop: asyncio.Event, drain_timeout_s: float = 2.0,
                  end_timeout_s: float = 1.5) -> None:
        """Follow the hub until ``stop`` is set, then stop within about
        ``end_timeout_s + drain_timeout_s + 0.5`` s: sets in progress are closed (``worker_stopped``;
        a camera's thread still busy after ``end_timeout_s``, e.g. loading its models, is not waited
        for), and every camera's sets get ``drain_timeout_s`` to reach the hub; closed ones still
        unsent stay in the spool for the next start. Analysis threads that do not finish within
        0.5 s are listed in ``stuck_threads``."""
        async with open_session(self.token, timeout_s=10) as session:
            hub = HubClient(session, self.hub_url)
            self._hub, self._loop = hub, asyncio.get_running_loop()
            for item in await asyncio.to_thread(self.spool.load):
                self._outbox(item.camera_id).put(item.body)
            if self.outboxes:
                log.info("%d spooled set(s) from %s to send", sum(map(len, self.outboxes.values())),
                         self.spool.folder)
            follower = asyncio.create_task(self._follow(hub), name="follow")
            renewer = asyncio.create_task(self.leases.keep(hub), name="leases")
            await stop.wait()
            follower.cancel()
            for t in list(self._tasks):
                t.cancel()
            await asyncio.gather(follower, *self._tasks, return_exceptions=True)
            # Sets in progress are reported as ended by the shutdown rather than lost with it.
            tracks = list(self.tracks.values())
            ended = await asyncio.gather(
                *(asyncio.wait_for(self._end_set(t, "worker_stopped"), end_timeout_s) for t in tracks),
                return_exceptions=True)
            for track, outcome in zip(tracks, ended):
                if isinstance(outcome, TimeoutError):
                    log.warning("[%s] analysis thread busy; its set in progress is not reported",
                                track.camera_id)
            # Released once their sets are handed over: whoever takes a camera next starts a new set.
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
            await self.leases.release_all(hub)
            outboxes = list(self.outboxes.values())
            await asyncio.gather(*(o.drained(drain_timeout_s) for o in outboxes))
            unsent = sum(o.pending_closed for o in outboxes)
            if unsent:
                log.warning("%d finished set(s) not acknowledged by the hub yet: kept in %s and sent "
                            "at the next start", unsent, self.spool.folder)
            for t in self._senders:
                t.cancel()
            await asyncio.gather(*self._senders, return_exceptions=True)
            self._hub = None
        for track in self.tracks.values():
            track.executor.submit(self._close_analyzer, track)
            track.executor.shutdown(wait=False)
        names = tuple(f"analysis:{cam}_" for cam in self.tracks)  # ThreadPoolExecutor's "<prefix>_<n>"
        threads = [t for t in threading.enumerate() if t.name.startswith(names)]
        await asyncio.to_thread(_join_all, threads, 0.5)
        self.stuck_threads = [t.name for t in threads if t.is_alive()]

    @property
    def sets_sent(self) -> int:
        return sum(o.sent for o in self.outboxes.values())

    @property
    def sets_unsent(self) -> int:
        """Closed sets not acknowledged by the hub (kept in the spool)."""
        return sum(o.pending_closed for o in self.outboxes.values())

    def _outbox(self, camera_id: str) -> SetOutbox:
        """The camera's outbox, its sender task started on first use (event loop only)."""
        outbox = self.outboxes.get(camera_id)
        if outbox is None:
            outbox = self.outboxes[camera_id] = SetOutbox(camera_id, self.spool)
            self._senders.append(asyncio.create_task(outbox.run(self._hub), name=f"sets:{camera_id}"))
        return outbox

    def _queue_sets(self, camera_id: str, bodies: list[SetIn]) -> None:
        if self._hub is None:  # after the shutdown's last send: closed sets stay spooled
            log.warning("[%s] %d set update(s) after the worker stopped sending; closed sets stay spooled",
                        camera_id, len(bodies))
            return
        for body in bodies:
            self._outbox(camera_id).put(body)
        if any(body.status == "closed" for body in bodies) and camera_id in self.leases.held:
            self._spawn(self._balance(camera_id), f"balance:{camera_id}")

    async def _balance(self, camera_id: str) -> None:
        """After a set of the camera closed: give it to a less loaded worker if there is one; the
        set begun since (a frame or two) is dropped, the other worker starts its own."""
        if self._hub is not None and await self.leases.hand_over(self._hub, camera_id):
            track = self.tracks.get(camera_id)
            if track is not None:
                track.executor.submit(self._drop_set_on_thread, track)

    def _hand_over(self, camera_id: str, bodies: list[SetIn]) -> None:
        """From a camera's thread: queue its set bodies on the event loop, in the thread's order
        (``call_soon_threadsafe`` is FIFO), whether or not the task that asked is still waiting."""
        if not bodies:
            return
        try:
            self._loop.call_soon_threadsafe(self._queue_sets, camera_id, bodies)
        except RuntimeError:  # the loop is gone: closed sets are in the spool for the next start
            log.warning("[%s] %d set update(s) after the worker stopped; closed sets stay spooled",
                        camera_id, len(bodies))

    @property
    def sets_pending(self) -> int:
        """Set bodies (open and closed) not yet acknowledged by the hub."""
        return sum(len(o) for o in self.outboxes.values())

    @staticmethod
    def _close_analyzer(track: CameraTrack) -> None:
        if track.analyzer is not None:
            track.analyzer.close()

    async def _follow(self, hub: HubClient) -> None:
        """Follow the hub's events until cancelled, whatever fails: reconnect, to the next hub
        at once while there is one not tried since the last success, else with backoff."""
        delays, failed_over = None, 0
        while True:
            try:
                async with hub.events(WORKER_EVENT_TYPES, heartbeat_s=10) as stream:
                    await self._on_connected()
                    log.info("following %s%s", self.hub_url, "" if delays is None else " again")
                    delays, failed_over = None, 0
                    self.following, self.follow_error = True, None
                    self.connected.set()
                    async for text in stream:
                        self._handle_event(text, hub)
                error = f"the hub closed the event stream ({stream.close_code})"
            except (HubUnreachable, HubRejected, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                if delays is None:
                    log.warning("hub %s unavailable (%s); retrying with backoff", self.hub_url, error)
            except Exception as exc:  # a bug must not leave a worker that looks alive but analyses nothing
                error = f"{type(exc).__name__}: {exc}"
                log.exception("following %s failed; restarting with backoff", self.hub_url)
            self.following, self.follow_error = False, error
            self.follower_restarts += 1
            self.connected.clear()
            if len(self.hub_urls) > 1:
                self._next_hub(hub, error)
                failed_over += 1
                if failed_over < len(self.hub_urls):
                    continue
                failed_over = 0
            delays = delays or reconnect_delays()
            await asyncio.sleep(next(delays))

    def _next_hub(self, hub: HubClient, error: str) -> None:
        index = (self.hub_urls.index(self.hub_url) + 1) % len(self.hub_urls)
        log.warning("hub %s unavailable (%s): moving to %s", self.hub_url, error, self.hub_urls[index])
        self.hub_url = self.hub_urls[index]
        hub.move_to(self.hub_url)

    def _handle_event(self, text: str, hub: HubClient) -> None:
        """Parse and act on one event; a malformed one is counted and skipped, and logged the
        first time its type is seen malformed (a hub sending many would flood the log)."""
        try:
            event = parse_event(text)
        except ValueError as exc:
            self.bad_events += 1
            kind = _event_type(text)
            if kind not in self._bad_event_types:
                self._bad_event_types.add(kind)
                log.warning("skipping a malformed %r event from the hub (%s): %.300s; further malformed "
                            "%r events are only counted", kind, str(exc).replace("\n", " ")[:300], text, kind)
            return
        self._on_event(event, hub)

    async def _on_connected(self) -> None:
        """Read the hub's references before following frames (so the first frames are scored),
        and look for queued build jobs and missing defaults in the background."""
        if self.references is not None:
            await self._refresh_references()
            self._spawn(self._upload_defaults(), "reference-defaults")
        self._want_jobs()

    async def _upload_defaults(self) -> None:
        try:
            uploaded = await self.references.upload_missing_defaults(self._hub)
        except (HubUnreachable, HubRejected) as exc:
            log.warning("uploading the default references failed: %s", exc)
            return
        if uploaded:  # their events refresh the references too; this covers a missed one
            self._want_references()

    def _want_references(self) -> None:
        """Refresh the references once more, at most one refresh running (a burst of events costs
        one more, never a backlog)."""
        self._references_dirty = True
        if self._references_task is None:
            self._references_task = self._spawn(self._refresh_loop(), "references")

    async def _refresh_loop(self) -> None:
        try:
            while self._references_dirty:
                self._references_dirty = False
                await self._refresh_references()
        finally:
            self._references_task = None

    async def _refresh_references(self) -> None:
        """Read the reference set from the hub and hand it to every camera's thread if it changed."""
        before = self.references.current
        try:
            current = await self.references.refresh(self._hub)
        except (HubUnreachable, HubRejected) as exc:
            log.warning("reading the hub's references failed, keeping the current ones: %s", exc)
            return
        if current is None:
            log.warning("the hub has no reference to score against yet: reps and faults only, no scores")
        if _versions(current) == _versions(before):
            return
        for track in self.tracks.values():
            track.executor.submit(self._apply_reference, track)
        log.info("scoring against %s", ", ".join(f"{v}: {n} {h[:12]}" for v, (n, h) in _versions(current).items())
                 or "no reference")

    def _apply_reference(self, track: CameraTrack) -> None:
        """On the camera's thread: swap the analyser's answer sheet (if it has one) for the current set."""
        if self.references is None or track.analyzer is None or not hasattr(track.analyzer, "use_reference"):
            return
        track.analyzer.use_reference(self.references.current)

    def _want_jobs(self) -> None:
        if self.builder is not None:
            self._spawn(self.builder.take_jobs(self._hub), "reference-jobs")

    def _on_event(self, event: Event, hub: HubClient) -> None:
        if isinstance(event, ReferenceEvent):
            if self.references is not None and (event.change == "chosen" or event.name in self.references.names_in_use):
                self._want_references()
        elif isinstance(event, ReferenceJobEvent):
            if event.job.state == "queued":
                self._want_jobs()
        elif isinstance(event, GazeCalibrateEvent):
            self._gaze_calibrate(event)
        elif isinstance(event, CameraStaleEvent):
            track = self.tracks.get(event.camera_id)
            if track is not None and event.camera_id in self.leases.held:
                self._spawn(self._end_stale(track, hub), f"set-end:{track.camera_id}")
        elif isinstance(event, FrameEvent):
            cam = event.camera_id
            if cam not in self.leases.held:
                if self.leases.should_ask(cam):
                    self._spawn(self.leases.ask(hub, cam), f"lease:{cam}")
                return
            self._frame_arrived(self._track(cam))

    def _track(self, cam: str) -> CameraTrack:
        track = self.tracks.get(cam)
        if track is None:
            track = CameraTrack(cam, ThreadPoolExecutor(1, thread_name_prefix=f"analysis:{cam}"))
            self.tracks[cam] = track
        return track

    def _frame_arrived(self, track: CameraTrack) -> None:
        track.events_since_start += 1
        if not track.busy and self._hub is not None:
            track.busy = True
            self._spawn(self._drain(track, self._hub), f"analyse:{track.camera_id}")

    def _on_granted(self, cam: str) -> None:
        """A lease won: analyse the camera's newest frame now rather than at its next frame."""
        self._frame_arrived(self._track(cam))

    def _on_lost(self, cam: str) -> None:
        """A lease lost: another worker analyses the camera and the hub closed its open set; the
        set in progress here is dropped so that it is never reported twice."""
        track = self.tracks.get(cam)
        if track is not None:
            track.executor.submit(self._drop_set_on_thread, track)

    def _on_cut_off(self, cam: str) -> None:
        """A lease given up after the hub went unanswered for a whole lifetime: the set in progress
        is closed here as ``worker_lost`` and spooled, since a hub that restarted meanwhile has
        forgotten it (a hub that did not, or another that let a worker take the camera over, closed
        it already: the two closes are one set, stored once by its id)."""
        track = self.tracks.get(cam)
        if track is not None:
            track.executor.submit(self._end_set_on_thread, track, "worker_lost")

    def _on_overdue(self, cam: str) -> None:
        """The camera's worker missed a renewal (it may have died): load its models now, on its
        thread, so a takeover's first analysis does not wait for them."""
        track = self._track(cam)
        if track.analyzer is None and not track.warming:
            track.warming = True
            track.executor.submit(self._warm_on_thread, track)

    def _warm_on_thread(self, track: CameraTrack) -> None:
        try:
            self._ensure_analyzer(track)
            if hasattr(track.analyzer, "warm_up"):
                track.analyzer.warm_up()
        except Exception:  # a future nobody awaits would swallow it; the first frame tries again
            log.exception("[%s] loading the analysis models failed", track.camera_id)

    async def _end_stale(self, track: CameraTrack, hub: HubClient) -> None:
        await self._end_set(track, "camera_stale")
        await self.leases.release(hub, track.camera_id)

    def _gaze_calibrate(self, event: GazeCalibrateEvent) -> None:
        """Start or reset the camera's gaze calibration on its analysis thread (server/routes/gaze.py)."""
        track = self.tracks.get(event.camera_id)
        if track is None or event.camera_id not in self.leases.held:
            log.info("gaze calibration for %r ignored: not analysing that camera", event.camera_id)
            return
        track.executor.submit(self._gaze_calibrate_on_thread, track, event)

    @staticmethod
    def _gaze_calibrate_on_thread(track: CameraTrack, event: GazeCalibrateEvent) -> None:
        analyzer = track.analyzer
        try:
            if analyzer is None or not hasattr(analyzer, "start_calibration"):
                log.warning("[%s] gaze calibration ignored: gaze is off", track.camera_id)
            elif event.action == "reset":
                analyzer.reset_target()
            else:
                analyzer.start_calibration(event.duration_s, event.request_id)
        except Exception:  # a future nobody awaits would swallow it
            log.exception("[%s] gaze calibration failed", track.camera_id)

    def _spawn(self, coro, name: str) -> asyncio.Task:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _end_set(self, track: CameraTrack, reason: str) -> None:
        await self._loop.run_in_executor(track.executor, self._end_set_on_thread, track, reason)

    async def _drain(self, track: CameraTrack, hub: HubClient) -> None:
        """Analyse the newest frame until no new frame arrived during the last analysis."""
        try:
            while track.events_since_start and track.camera_id in self.leases.held:
                # Every frame announced before this fetch but the newest is skipped.
                track.skipped += track.events_since_start - 1
                track.events_since_start = 0
                try:
                    await self._analyse_latest(track, hub)
                except HubUnreachable as exc:
                    log.warning("[%s] hub request failed: %s", track.camera_id, exc)
                    return
                except Exception:
                    log.exception("[%s] analysis failed", track.camera_id)
                    return
        finally:
            track.busy = False

    async def _analyse_latest(self, track: CameraTrack, hub: HubClient) -> None:
        try:
            frame = await hub.latest_frame(track.camera_id)
        except HubRejected as exc:  # e.g. a token that may not read frames
            self._rejected(track, exc)
            return
        if frame is None or frame.seq == track.last_seq:
            return
        loop = asyncio.get_running_loop()
        fields, processing_ms = await loop.run_in_executor(
            track.executor, self._analyse_on_thread, track, frame.jpeg, frame.seq, frame.capture_time_ns,
            frame.source_frame)
        track.last_seq = frame.seq
        track.analysed += 1
        try:
            body = AnalysisIn(**fields, seq=frame.seq, capture_time_ns=frame.capture_time_ns,
                              source_frame=frame.source_frame, processing_ms=round(processing_ms, 3),
                              skipped_frames=track.skipped, worker_id=self.worker_id)
            out = await hub.post_analysis(track.camera_id, body)
        except (ValidationError, HubRejected) as exc:
            if not (isinstance(exc, HubRejected) and exc.code == "stale_result"):  # a newer one is there
                self._rejected(track, exc)
            return
        track.latencies_ms.append(out.latency_ms)
        del track.latencies_ms[:-300]

    @staticmethod
    def _rejected(track: CameraTrack, exc: Exception) -> None:
        track.rejected += 1
        if track.rejected == 1:  # once, not per frame
            log.warning("[%s] result rejected: %.500s", track.camera_id, str(exc).replace("\n", " "))

    def _analyse_on_thread(self, track: CameraTrack, jpeg: bytes, seq: int, capture_time_ns: int,
                           source_frame: int | None = None) -> tuple[dict, float]:
        """On the camera's thread: (result fields, processing ms); set bodies are handed over."""
        started = time.perf_counter()
        self._ensure_analyzer(track)
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"frame {seq} does not decode")
        bodies: list[SetIn] = []
        sets = track.sets
        if sets is not None and sets.source_restarted(source_frame):
            bodies += self._close_set(track, "source_restart")
        result = track.analyzer.analyze(image, seq=seq, capture_time_ns=capture_time_ns)
        track.last_capture_ns = capture_time_ns
        if sets is not None:
            completed = result.get("rep") is not None
            in_rep = result.get("rep_phase") in ("down", "bottom", "up")
            if completed and (body := self._set_body(track, "open", None)) is not None:
                bodies.append(body)
            if sets.rest_elapsed(capture_time_ns, int(result.get("rep_count", 0)), in_rep, completed):
                bodies += self._close_set(track, "rest")
        self._hand_over(track.camera_id, bodies)
        return to_wire(result, track.rep_scores), (time.perf_counter() - started) * 1e3

    def _ensure_analyzer(self, track: CameraTrack) -> None:
        """On the camera's thread: its analyser (and set tracker), built on first use."""
        if track.analyzer is None:
            track.analyzer = self.make_analyzer(track.camera_id)
            self._apply_reference(track)
            if hasattr(track.analyzer, "start_new_set"):
                track.sets = SetTracker(track.camera_id, self.rest_s)

    def _set_body(self, track: CameraTrack, status: str, reason: str | None) -> SetIn | None:
        """The camera's set as ``SetIn``; None (logged) when the analysis gave a value the contract
        does not allow, which the hub would refuse for good."""
        ref = getattr(track.analyzer, "reference", None)
        try:
            return set_to_wire(track.sets, track.analyzer.summary(), status=status, end_reason=reason,
                               ended_at_ns=track.last_capture_ns, reference=getattr(ref, "name", None),
                               reference_hash=getattr(ref, "content_hash", None))
        except ValidationError as exc:
            log.error("[%s] set %s not reported: %.500s", track.camera_id, track.sets.set_id,
                      str(exc).replace("\n", " "))
            return None

    @staticmethod
    def _drop_set_on_thread(track: CameraTrack) -> None:
        if track.sets is None or track.analyzer is None:
            return
        if track.analyzer.summary()["reps"]:
            log.info("[%s] set %s left to the hub (closed as worker_lost there)", track.camera_id, track.sets.set_id)
        track.analyzer.start_new_set(reset_motion=True)
        track.sets.next_set()
        track.rep_scores.clear()

    def _end_set_on_thread(self, track: CameraTrack, reason: str) -> None:
        self._hand_over(track.camera_id, self._close_set(track, reason))

    def _close_set(self, track: CameraTrack, reason: str) -> list[SetIn]:
        """On the camera's thread: end the current set; its closed body if it had reps, spooled
        before it is queued so that a worker killed from here on still sends it at its next start."""
        if track.sets is None or track.analyzer is None:
            return []
        body = self._set_body(track, "closed", reason) if track.analyzer.summary()["reps"] else None
        # After a replay's jump, or a lease lifetime or more without analysis, the rep state is stale:
        # a rep begun before it belongs to no set (it would start the next set before this one ended).
        track.analyzer.start_new_set(reset_motion=reason in ("source_restart", "worker_lost"))
        track.sets.next_set()
        track.rep_scores.clear()
        if body is None:
            return []
        self.spool.keep(track.camera_id, body)
        log.info("[%s] set %s closed (%s): %d rep(s)", track.camera_id, body.set_id, reason, body.reps)
        return [body]


def _join_all(threads: list[threading.Thread], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))


def _event_type(text: str) -> str:
    """The ``type`` of a raw event, for logging a malformed one ("?" when there is none)."""
    try:
        kind = json.loads(text).get("type")
    except (ValueError, AttributeError):
        return "?"
    return kind if isinstance(kind, str) else "?"


def default_analyzer(camera_id: str, gaze: bool = True, gaze_fps: float = 15.0) -> FrameAnalyzer:
    """Pose plus, unless ``gaze=False``, gaze at most ``gaze_fps`` times a second
    (``analysis.combined.CombinedAnalyzer``); the worker gives it the hub's references."""
    from analysis.combined import CombinedAnalyzer
    from analysis.gaze.analyzer import GazeAnalyzer
    from analysis.session import PoseAnalyzer

    pose = PoseAnalyzer(camera_id)
    return CombinedAnalyzer(pose, GazeAnalyzer(camera_id), gaze_fps) if gaze else pose


def _versions(references) -> dict[str, tuple[str, str]]:
    """view -> (name, content hash) of a ``ReferenceSet`` (the chosen one under ``chosen``)."""
    if references is None:
        return {}
    refs = {"chosen": references.chosen, **references.by_view}
    return {view: (r.name, r.content_hash or "") for view, r in refs.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m analysis.worker", description="FormSync analysis worker",
                                epilog="A hub that requires tokens takes the worker token from FORMSYNC_WORKER_TOKEN.")
    p.add_argument("--hub", action="append", metavar="URL",
                   help="hub base URL (default http://127.0.0.1:8000); repeat it for hubs sharing Redis, "
                        "in order of preference: the worker moves to the next when its hub is unreachable")
    p.add_argument("--worker-id", default="worker", help="name reported with results")
    p.add_argument("--status-interval", type=float, default=5.0, help="seconds between status lines")
    p.add_argument("--rest-s", type=float, default=10.0, help="a pause this long (s) ends a set")
    p.add_argument("--no-gaze", action="store_true", help="pose only: no face mesh, gaze or attention")
    p.add_argument("--gaze-fps", type=float, default=15.0,
                   help="most gaze analyses per camera and second; frames between carry the last (0: every frame)")
    p.add_argument("--max-cameras", type=int, default=8,
                   help="most cameras analysed at once; other workers take the rest (1-1024)")
    p.add_argument("--lease-ttl-ms", type=int, default=LEASE_TTL_MS,
                   help="camera lease lifetime, ms: a dead worker's cameras are taken over this long after "
                        "its last renewal (200-60000)")
    p.add_argument("--no-reference-jobs", action="store_true",
                   help="do not build references the Coach page asks for (other workers do)")
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    if not 1 <= args.max_cameras <= 1024:
        p.error(f"--max-cameras must be 1-1024, not {args.max_cameras}")
    if not 200 <= args.lease_ttl_ms <= 60_000:
        p.error(f"--lease-ttl-ms must be 200-60000, not {args.lease_ttl_ms}")
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(message)s")
    from analysis.reference import ReferenceLibrary

    make = functools.partial(default_analyzer, gaze=not args.no_gaze, gaze_fps=args.gaze_fps)
    # The library is where missing defaults are built (FORMSYNC_REFERENCE_DIR) before they go to the hub.
    worker = AnalysisWorker(args.hub or ["http://127.0.0.1:8000"], make, args.worker_id, rest_s=args.rest_s,
                            references=WorkerReferences(ReferenceLibrary()),
                            build_references=not args.no_reference_jobs, max_cameras=args.max_cameras,
                            lease_ttl_ms=args.lease_ttl_ms)

    stop_requested: float | None = None

    async def amain() -> None:
        nonlocal stop_requested
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for s in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(s, stop.set)

        async def status() -> None:
            while True:
                await asyncio.sleep(args.status_interval)
                for t in worker.tracks.values():
                    lat = np.percentile(t.latencies_ms, [50, 95]) if t.latencies_ms else (float("nan"),) * 2
                    log.info("[%s] analysed %d, skipped %d, latency p50 %.0f ms p95 %.0f ms",
                             t.camera_id, t.analysed, t.skipped, *lat)

        reporter = asyncio.create_task(status())
        beats = asyncio.create_task(send_heartbeats(worker))  # monitoring: host, process, per-camera fps
        running = asyncio.create_task(worker.run(stop))
        await stop.wait()
        stop_requested = time.monotonic()
        reporter.cancel()
        beats.cancel()  # its goodbye (the stop is deliberate) goes out while the sets drain
        await asyncio.gather(running, beats, return_exceptions=True)
        running.result()

    try:
        asyncio.run(amain())
    except KeyboardInterrupt:  # Ctrl-C before the signal handlers were in place: nothing to stop yet
        print("analysis worker: interrupted while starting", flush=True)
        return 0
    took = time.monotonic() - stop_requested if stop_requested is not None else 0.0
    log.info("stopped in %.1f s: %d set update(s) sent%s", took, worker.sets_sent,
             f", {worker.sets_unsent} finished set(s) kept for the next start" if worker.sets_unsent else "")
    if worker.stuck_threads:
        # Python's exit would wait for them (concurrent.futures joins its threads), and tearing
        # down MediaPipe or OpenCV under a running call can abort the process.
        log.warning("not waiting for busy analysis threads: %s", ", ".join(worker.stuck_threads))
        logging.shutdown()
        os._exit(0)
    return 0

if __name__ == "__main__":
    sys.exit(main())
