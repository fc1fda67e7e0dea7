"""The hub client every role uses: one method per endpoint of docs/api.md, answers as
``formsync.wire`` models, over a caller-owned ``aiohttp.ClientSession``.

    async with open_session(token, timeout_s=5) as session:
        hub = HubClient(session, "http://127.0.0.1:8000")
        cameras = await hub.cameras()

Two exceptions, whatever the endpoint:

- ``HubUnreachable`` (a ``ConnectionError``): no usable answer: connection refused or dropped,
  timeout, 5xx, or an answer that does not parse. Retrying later may work.
- ``HubRejected``: the hub refused the request (4xx) and said why: ``status``, ``code`` (the
  error codes of docs/api.md), ``message``, ``details``.

Endpoints that answer 404 for "nothing yet" (a camera's latest frame, result or set; a frame that
left the ring; no synchronised set) return None instead of raising.

Answers are read with ``formsync.wire.base.read``: fields the models do not know are ignored, so
a newer hub does not break an older client. Bodies a client sends are models, validated as they
are built, so a malformed one fails in the sender rather than at the hub.

``call_hub`` runs one call from synchronous code (a dashboard button).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, SecretStr, ValidationError

from formsync.auth import bearer
from formsync.wire import frames as fw
from formsync.wire.analysis import AnalysisIn, AnalysisOut
from formsync.wire.base import read
from formsync.wire.errors import ErrorDetail, parse_error
from formsync.wire.frames import (
    CameraOut,
    CamerasOut,
    FrameImage,
    HealthOut,
    StreamAck,
    StreamHeader,
    TimeOut,
    TimeReply,
    TimeRequest,
    UploadOut,
)
from formsync.wire.gaze import GazeCalibrateIn, GazeCalibrateOut
from formsync.wire.leases import (
    LeaseClaim,
    LeaseList,
    LeaseOut,
    LeaseRelease,
    LeaseReleaseOut,
    LeaseRenewal,
    LeaseRenewalOut,
)
from formsync.wire.live import DisplayTokenOut, LiveViewersOut
from formsync.wire.monitoring import AlertsOut, HeartbeatIn, HeartbeatOut, HeartbeatsOut
from formsync.wire.references import (
    JobClaim,
    JobDone,
    JobFailure,
    JobProgress,
    ReferenceChoice,
    ReferenceJob,
    ReferenceJobList,
    ReferenceList,
    ReferenceMeta,
    ReferenceOut,
)
from formsync.wire.sets import SetIn, SetList, SetOut, SetPutOut
from formsync.wire.sync import SyncSetOut

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

_NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError, ConnectionError)


class HubUnreachable(ConnectionError):
    """No usable answer from the hub: connection refused or dropped, timeout, 5xx, or a malformed reply."""


class HubRejected(Exception):
    """The hub refused the request (4xx). ``status``: the HTTP status; ``code``, ``message``,
    ``details``: its error body (docs/api.md, *Errors*)."""

    def __init__(self, status: int, error: ErrorDetail) -> None:
        super().__init__(f"{status} {error.code}: {error.message}")
        self.status = status
        self.code = error.code
        self.message = error.message
        self.details = error.details


@dataclass(frozen=True)
class ReferenceData:
    """A reference's per-frame data (``arrays.npz`` bytes) and its content hash, checked."""

    content_hash: str
    data: bytes


@dataclass(frozen=True)
class ReferencePicture:
    """A reference's picture of one video frame, and the content hash of the version it belongs to."""

    content_hash: str
    jpeg: bytes


def open_session(token: SecretStr | str | None = None, timeout_s: float = 5.0) -> aiohttp.ClientSession:
    """A session whose every request and WebSocket handshake carries ``token`` as
    ``Authorization: Bearer`` (none without a token), each request bounded by ``timeout_s``
    seconds. Use it as ``async with``; the caller owns and closes it."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s), headers=bearer(token))


def _seg(value: str) -> str:
    return quote(value, safe="")


class HubClient:
    """Args:
        session: an open ``aiohttp.ClientSession`` (``open_session``); its timeout and headers
            apply to every request.
        hub_url: base URL, e.g. ``http://127.0.0.1:8000``.

    Every method raises ``HubUnreachable`` or ``HubRejected`` as the module says.
    """

    def __init__(self, session: aiohttp.ClientSession, hub_url: str) -> None:
        self.session = session
        self.move_to(hub_url)

    def move_to(self, hub_url: str) -> None:
        """Send every later request to ``hub_url``: hubs sharing their state in Redis serve
        alike, so a process given several moves on when its hub is unreachable."""
        self.base = hub_url.rstrip("/")
        self.api = f"{self.base}/api/v1"
        self.ws_api = self.base.replace("http", "ws", 1) + "/api/v1"

    def camera_url(self, camera_id: str) -> str:
        return f"{self.api}/cameras/{_seg(camera_id)}"

    # -- plumbing -------------------------------------------------------------------------

    async def _request(self, method: str, url: str, *, ok: tuple[int, ...] = (200,), none_on_404: bool = False,
                       **kwargs) -> tuple[int, bytes, Mapping[str, str]] | None:
        """``(status, body, headers)`` of an answer in ``ok``; None for a 404 with ``none_on_404``."""
        try:
            async with self.session.request(method, url, **kwargs) as resp:
                status, body, headers = resp.status, await resp.read(), resp.headers
        except _NETWORK_ERRORS as exc:
            raise HubUnreachable(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
        if status in ok:
            return status, body, headers
        if status == 404 and none_on_404:
            return None
        if status >= 500:
            raise HubUnreachable(f"{method} {url}: hub answered {status}")
        raise HubRejected(status, parse_error(status, body))

    async def _model(self, model: type[M], method: str, url: str, **kwargs) -> M | None:
        answer = await self._request(method, url, **kwargs)
        if answer is None:
            return None
        try:
            return read(model, answer[1])
        except ValidationError as exc:
            raise HubUnreachable(f"{method} {url}: malformed answer: {exc}") from exc

    @staticmethod
    def _json(body: BaseModel) -> dict[str, Any]:
        return {"data": body.model_dump_json(), "headers": {"Content-Type": "application/json"}}

    # -- camera clients -------------------------------------------------------------------

    async def upload_frame(self, camera_id: str, jpeg: bytes, *, seq: int, capture_time_ns: int,
                           source_frame: int | None = None, clock_offset_ns: int | None = None,
                           clock_uncertainty_ns: int | None = None, fps: float | None = None) -> UploadOut:
        """``POST /api/v1/cameras/{id}/frames``: one JPEG with its metadata in headers (times in
        ns, ``fps`` the camera's frame rate, 0.1-240). Returns the stored frame's metadata and the
        camera's quality target (``target``, None with adaptive quality off);
        ``HubRejected`` codes include ``rate_limited`` (429), ``capture_time_too_old`` (409),
        ``frame_too_large`` (413), ``invalid_jpeg`` (422)."""
        headers = {"Content-Type": "image/jpeg", fw.CAPTURE_TIME_HEADER: str(capture_time_ns),
                   fw.SEQ_HEADER: str(seq)}
        if source_frame is not None:
            headers[fw.SOURCE_FRAME_HEADER] = str(source_frame)
        if clock_offset_ns is not None:
            headers[fw.CLOCK_OFFSET_HEADER] = str(clock_offset_ns)
            if clock_uncertainty_ns is not None:
                headers[fw.CLOCK_UNCERTAINTY_HEADER] = str(clock_uncertainty_ns)
        if fps:
            headers[fw.CAMERA_FPS_HEADER] = f"{fps:.3f}"
        return await self._model(UploadOut, "POST", f"{self.camera_url(camera_id)}/frames", ok=(201,),
                                 data=jpeg, headers=headers)

    async def hub_time(self) -> TimeOut:
        """``GET /api/v1/time``: the hub's t1/t2 stamps of an NTP four-timestamp exchange (the
        caller stamps t0 before and t3 after the call)."""
        return await self._model(TimeOut, "GET", f"{self.api}/time")

    async def open_stream(self, camera_id: str, timeout_s: float = 5.0) -> FrameStream:
        """``WS /api/v1/cameras/{id}/stream``: one camera's ingest socket (``FrameStream``);
        ``timeout_s`` bounds the wait for each answer. The caller closes it."""
        url = f"{self.ws_api}/cameras/{_seg(camera_id)}/stream"
        try:
            ws = await self.session.ws_connect(url, heartbeat=10.0, autoping=True)
        except _NETWORK_ERRORS as exc:
            raise HubUnreachable(f"WS {url}: {type(exc).__name__}: {exc}") from exc
        return FrameStream(ws, timeout_s)

    # -- frames and cameras ---------------------------------------------------------------

    async def health(self) -> HealthOut:
        """``GET /healthz`` (needs no token)."""
        return await self._model(HealthOut, "GET", f"{self.base}/healthz")

    async def cameras(self) -> list[CameraOut]:
        """``GET /api/v1/cameras``: every camera the hub knows, sorted by id."""
        return (await self._model(CamerasOut, "GET", f"{self.api}/cameras")).cameras

    async def latest_frame(self, camera_id: str) -> FrameImage | None:
        """``GET /api/v1/cameras/{id}/frame``; None when the camera has sent no frame."""
        return await self._frame_image(camera_id, f"{self.camera_url(camera_id)}/frame")

    async def frame(self, camera_id: str, seq: int) -> FrameImage | None:
        """``GET /api/v1/cameras/{id}/frames/{seq}``: a recent frame by seq (e.g. one of a
        synchronised set); None when it already left the hub's ~1 s ring."""
        return await self._frame_image(camera_id, f"{self.camera_url(camera_id)}/frames/{int(seq)}")

    async def _frame_image(self, camera_id: str, url: str) -> FrameImage | None:
        answer = await self._request("GET", url, none_on_404=True)
        if answer is None:
            return None
        _, body, headers = answer
        try:
            return FrameImage.from_response(camera_id, headers, body, time.time_ns())
        except (KeyError, ValueError) as exc:
            raise HubUnreachable(f"GET {url}: missing or bad frame header: {exc}") from exc

    async def sync_set(self, camera_ids: list[str]) -> SyncSetOut | None:
        """``GET /api/v1/frames/sync?cameras=a,b``; None when one of them has no frame or no set
        of their frames fits the hub's maximum spread."""
        return await self._model(SyncSetOut, "GET", f"{self.api}/frames/sync", none_on_404=True,
                                 params={"cameras": ",".join(camera_ids)})

    # -- analysis ---------------------------------------------------------------------------

    async def post_analysis(self, camera_id: str, result: AnalysisIn) -> AnalysisOut:
        """``POST /api/v1/cameras/{id}/analysis``; ``HubRejected`` ``stale_result`` (409) when the
        hub holds a result for a newer frame."""
        return await self._model(AnalysisOut, "POST", f"{self.camera_url(camera_id)}/analysis", ok=(201,),
                                 **self._json(result))

    async def analysis(self, camera_id: str) -> AnalysisOut | None:
        """``GET /api/v1/cameras/{id}/analysis``: the camera's latest result; None before the first."""
        return await self._model(AnalysisOut, "GET", f"{self.camera_url(camera_id)}/analysis", none_on_404=True)

    # -- sets -------------------------------------------------------------------------------

    async def put_set(self, camera_id: str, body: SetIn) -> SetPutOut:
        """``PUT /api/v1/cameras/{id}/set``: create or update the camera's set (idempotent by
        ``set_id``). ``persisted`` is False while the hub's database refuses a closed set."""
        return await self._model(SetPutOut, "PUT", f"{self.camera_url(camera_id)}/set", **self._json(body))

    async def live_set(self, camera_id: str) -> SetOut | None:
        """``GET /api/v1/cameras/{id}/set``: the set in progress, or the last closed one; None when
        the camera has none."""
        return await self._model(SetOut, "GET", f"{self.camera_url(camera_id)}/set", none_on_404=True)

    async def sets(self, limit: int = 50, camera_id: str | None = None) -> SetList:
        """``GET /api/v1/sets``: closed sets (1-500, newest first), with the count of sets the
        hub's database refused so far (``unsaved``) and why (``persist_error``)."""
        params: dict[str, Any] = {"limit": limit, **({"camera_id": camera_id} if camera_id else {})}
        return await self._model(SetList, "GET", f"{self.api}/sets", params=params)

    async def set(self, set_id: str) -> SetOut | None:
        """``GET /api/v1/sets/{set_id}``: one closed set; None when the hub has no such set."""
        return await self._model(SetOut, "GET", f"{self.api}/sets/{_seg(set_id)}", none_on_404=True)

    # -- references ---------------------------------------------------------------------------

    def reference_url(self, name: str) -> str:
        return f"{self.api}/references/{_seg(name)}"

    async def reference(self) -> ReferenceOut:
        """``GET /api/v1/reference``: the chosen reference and its content hash (``name`` None:
        the default of each view)."""
        return await self._model(ReferenceOut, "GET", f"{self.api}/reference")

    async def choose_reference(self, name: str) -> ReferenceOut:
        """``PUT /api/v1/reference`` (viewer): workers score against stored reference ``name`` from
        their next frame; ``HubRejected`` ``reference_not_found`` (404) for one the hub does not
        hold. Raises ``pydantic.ValidationError`` for a name the hub would refuse."""
        return await self._model(ReferenceOut, "PUT", f"{self.api}/reference",
                                 **self._json(ReferenceChoice(name=name)))

    async def references(self) -> ReferenceList:
        """``GET /api/v1/references``: every stored reference's metadata and the chosen one."""
        return await self._model(ReferenceList, "GET", f"{self.api}/references")

    async def reference_meta(self, name: str) -> ReferenceMeta | None:
        """``GET /api/v1/references/{name}``: metadata with the content hash; None when unknown."""
        return await self._model(ReferenceMeta, "GET", self.reference_url(name), none_on_404=True)

    async def reference_data(self, name: str) -> ReferenceData | None:
        """``GET /api/v1/references/{name}/data``: the per-frame data; None when unknown. The body
        is checked against its ETag (the content hash): a mismatch raises ``HubUnreachable``."""
        url = f"{self.reference_url(name)}/data"
        answer = await self._request("GET", url, none_on_404=True)
        if answer is None:
            return None
        _, body, headers = answer
        tag = headers.get("ETag", "").strip('"')
        if hashlib.sha256(body).hexdigest() != tag:
            raise HubUnreachable(f"GET {url}: the data does not match its content hash {tag!r}")
        return ReferenceData(tag, body)

    async def reference_picture(self, name: str, seq: int) -> ReferencePicture | None:
        """``GET /api/v1/references/{name}/frames/{seq}.jpg``; None when there is no such picture."""
        answer = await self._request("GET", f"{self.reference_url(name)}/frames/{int(seq)}.jpg", none_on_404=True)
        if answer is None:
            return None
        _, body, headers = answer
        return ReferencePicture(headers.get("X-Content-Hash", ""), body)

    async def put_reference(self, name: str, bundle: bytes) -> ReferenceMeta:
        """``PUT /api/v1/references/{name}`` (worker): store a bundle (``formsync.reference_bundle``),
        replacing any reference of that name whole. ``HubRejected`` codes include
        ``reference_too_large`` (413) and ``invalid_bundle``, ``invalid_content``, ``invalid_data``,
        ``invalid_picture``, ``name_mismatch`` (422)."""
        return await self._model(ReferenceMeta, "PUT", self.reference_url(name), ok=(200, 201), data=bundle,
                                 headers={"Content-Type": "application/zip"})

    # -- reference build jobs -------------------------------------------------------------------

    def job_url(self, job_id: str) -> str:
        return f"{self.api}/reference-jobs/{_seg(job_id)}"

    async def submit_reference_job(self, name: str, video: bytes, source: str) -> ReferenceJob:
        """``POST /api/v1/reference-jobs`` (viewer): build reference ``name`` from ``video`` (the
        file's bytes; ``source``: its file name). ``HubRejected`` codes include ``video_too_large``
        (413), ``unsupported_media_type`` (415), ``empty_video`` (422)."""
        return await self._model(ReferenceJob, "POST", f"{self.api}/reference-jobs", ok=(202,), data=video,
                                 params={"name": name, "source": source[-200:]},
                                 headers={"Content-Type": "application/octet-stream"})

    async def reference_jobs(self, limit: int = 20) -> list[ReferenceJob]:
        """``GET /api/v1/reference-jobs``: recent jobs (1-50), newest first."""
        return (await self._model(ReferenceJobList, "GET", f"{self.api}/reference-jobs",
                                  params={"limit": str(limit)})).jobs

    async def reference_job(self, job_id: str) -> ReferenceJob | None:
        """``GET /api/v1/reference-jobs/{id}``; None when the hub has no such job."""
        return await self._model(ReferenceJob, "GET", self.job_url(job_id), none_on_404=True)

    async def claim_reference_job(self, worker_id: str) -> ReferenceJob | None:
        """``POST /api/v1/reference-jobs/claim`` (worker): the oldest queued job, now this worker's;
        None when none is queued."""
        answer = await self._request("POST", f"{self.api}/reference-jobs/claim", ok=(200, 204),
                                     **self._json(JobClaim(worker_id=worker_id)))
        if answer[0] == 204:
            return None
        try:
            return read(ReferenceJob, answer[1])
        except ValidationError as exc:
            raise HubUnreachable(f"POST {self.api}/reference-jobs/claim: malformed answer: {exc}") from exc

    async def download_job_video(self, job_id: str, target: Path) -> int:
        """``GET /api/v1/reference-jobs/{id}/video`` (worker) into file ``target``, streamed; returns
        its size. ``HubRejected`` ``video_not_found`` (404) once the job has ended."""
        url = f"{self.job_url(job_id)}/video"
        try:
            async with self.session.get(url) as resp:
                if resp.status >= 500:
                    raise HubUnreachable(f"GET {url}: hub answered {resp.status}")
                if resp.status != 200:
                    raise HubRejected(resp.status, parse_error(resp.status, await resp.read()))
                size = 0
                with await asyncio.to_thread(open, target, "wb") as out:
                    async for chunk in resp.content.iter_chunked(1 << 20):
                        await asyncio.to_thread(out.write, chunk)
                        size += len(chunk)
                return size
        except _NETWORK_ERRORS as exc:
            raise HubUnreachable(f"GET {url}: {type(exc).__name__}: {exc}") from exc

    async def report_job_progress(self, job_id: str, worker_id: str, frames_done: int,
                                  frames_total: int | None) -> ReferenceJob:
        """``POST .../progress`` (worker): frames done / total; renews the worker's hold on the
        job. ``HubRejected`` ``job_not_held`` (409) once the job is no longer this worker's."""
        body = JobProgress(worker_id=worker_id, frames_done=frames_done, frames_total=frames_total)
        return await self._model(ReferenceJob, "POST", f"{self.job_url(job_id)}/progress", **self._json(body))

    async def finish_job(self, job_id: str, worker_id: str, content_hash: str) -> ReferenceJob:
        """``POST .../done`` (worker), after ``put_reference``; ``HubRejected``
        ``reference_not_stored`` (409) when the hub does not hold that version under the job's name."""
        body = JobDone(worker_id=worker_id, content_hash=content_hash)
        return await self._model(ReferenceJob, "POST", f"{self.job_url(job_id)}/done", **self._json(body))

    async def fail_job(self, job_id: str, worker_id: str, code: str, message: str) -> ReferenceJob:
        """``POST .../failed`` (worker): the job ended without a reference (``code``:
        ``no_rep_found``, ``video_unreadable`` or ``build_failed``)."""
        body = JobFailure(worker_id=worker_id, code=code, message=message[:500])
        return await self._model(ReferenceJob, "POST", f"{self.job_url(job_id)}/failed", **self._json(body))

    # -- gaze (operator controls) -------------------------------------------------------------

    # -- camera leases (workers) -----------------------------------------------------------

    async def acquire_lease(self, camera_id: str, claim: LeaseClaim) -> LeaseOut:
        """``POST /api/v1/leases/{camera_id}`` (worker): the camera's lease granted (or renewed) to
        ``claim``'s worker, or why not (``reason``)."""
        return await self._model(LeaseOut, "POST", f"{self.api}/leases/{_seg(camera_id)}", **self._json(claim))

    async def renew_leases(self, renewal: LeaseRenewal) -> LeaseRenewalOut:
        """``POST /api/v1/leases/renew`` (worker): which of its leases the worker still holds."""
        return await self._model(LeaseRenewalOut, "POST", f"{self.api}/leases/renew", **self._json(renewal))

    async def release_lease(self, camera_id: str, release: LeaseRelease) -> bool:
        """``DELETE /api/v1/leases/{camera_id}`` (worker): False when the worker did not hold it."""
        return (await self._model(LeaseReleaseOut, "DELETE", f"{self.api}/leases/{_seg(camera_id)}",
                                  **self._json(release))).released

    async def leases(self) -> LeaseList:
        """``GET /api/v1/leases``: which worker analyses each camera, and every live worker's load."""
        return await self._model(LeaseList, "GET", f"{self.api}/leases")

    async def calibrate_gaze(self, camera_id: str, duration_s: float = 2.0) -> GazeCalibrateOut:
        """``POST /api/v1/cameras/{id}/gaze/calibrate``: the person looks at the screen's centre
        for ``duration_s`` (0.5-10 s). ``workers`` in the answer counts the workers listening;
        ``HubRejected`` ``camera_not_found`` (404) for a camera that has sent no frame."""
        return await self._model(GazeCalibrateOut, "POST", f"{self.camera_url(camera_id)}/gaze/calibrate",
                                 ok=(202,), **self._json(GazeCalibrateIn(duration_s=duration_s)))

    async def reset_gaze(self, camera_id: str) -> GazeCalibrateOut:
        """``DELETE /api/v1/cameras/{id}/gaze/calibration``: back to the default target."""
        return await self._model(GazeCalibrateOut, "DELETE", f"{self.camera_url(camera_id)}/gaze/calibration",
                                 ok=(202,))

    # -- live view ----------------------------------------------------------------------------

    async def display_token(self) -> DisplayTokenOut:
        """``POST /api/v1/live/tokens`` (viewer token): a short-lived token for a browser's live
        sockets (``WS /api/v1/live/stream``, read with ``formsync.live_stream``)."""
        return await self._model(DisplayTokenOut, "POST", f"{self.api}/live/tokens")

    async def live_viewers(self) -> LiveViewersOut:
        """``GET /api/v1/live/viewers``: the open live sockets, with what each was sent and dropped."""
        return await self._model(LiveViewersOut, "GET", f"{self.api}/live/viewers")

    # -- monitoring -------------------------------------------------------------------------

    async def post_heartbeat(self, body: HeartbeatIn) -> HeartbeatOut:
        """``POST /api/v1/heartbeats``: this process's health."""
        return await self._model(HeartbeatOut, "POST", f"{self.api}/heartbeats", ok=(201,), **self._json(body))

    async def forget_process(self, process_id: str, timeout_s: float | None = None) -> bool:
        """``DELETE /api/v1/heartbeats/{id}``: a deliberate stop, not a lost process. True when the
        hub forgot it, False when it did not know it. ``timeout_s`` overrides the session's."""
        extra = {"timeout": aiohttp.ClientTimeout(total=timeout_s)} if timeout_s is not None else {}
        answer = await self._request("DELETE", f"{self.api}/heartbeats/{_seg(process_id)}", ok=(204,),
                                     none_on_404=True, **extra)
        return answer is not None

    async def heartbeats(self) -> HeartbeatsOut:
        """``GET /api/v1/heartbeats``: the latest heartbeat of every process, lost ones included."""
        return await self._model(HeartbeatsOut, "GET", f"{self.api}/heartbeats")

    async def alerts(self, limit: int = 100) -> AlertsOut:
        """``GET /api/v1/alerts?limit=``: active alerts, the newest ``limit`` (1-1000) log entries
        and the rules in force."""
        return await self._model(AlertsOut, "GET", f"{self.api}/alerts", params={"limit": str(limit)})

    async def metrics(self) -> str:
        """``GET /metrics``: the Prometheus text exposition."""
        return (await self._request("GET", f"{self.base}/metrics"))[1].decode()

    # -- events -----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def events(self, types: frozenset[str] | None = None,
                     heartbeat_s: float = 10.0) -> AsyncIterator[EventStream]:
        """``WS /api/v1/events`` (only ``types`` when given, ``formsync.wire.events.EVENT_TYPES``)
        as an ``EventStream``, closed on leaving the block. Pings every ``heartbeat_s`` so a dead
        hub is noticed."""
        url = f"{self.ws_api}/events" + (f"?types={','.join(sorted(types))}" if types else "")
        try:
            ws = await self.session.ws_connect(url, heartbeat=heartbeat_s)
        except _NETWORK_ERRORS as exc:
            raise HubUnreachable(f"WS {url}: {type(exc).__name__}: {exc}") from exc
        try:
            yield EventStream(ws)
        finally:
            await ws.close()


class EventStream:
    """The hub's event messages as text, in order: ``async for text in stream``; parse each with
    ``formsync.wire.events.parse_event``. Iteration ends when the hub closes the stream
    (``close_code`` says how) and raises ``HubUnreachable`` when the connection fails."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws

    @property
    def close_code(self) -> int | None:
        return self._ws.close_code

    async def __aiter__(self) -> AsyncIterator[str]:
        try:
            async for msg in self._ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    yield msg.data
                elif msg.type is aiohttp.WSMsgType.ERROR:
                    raise HubUnreachable(f"event stream failed: {self._ws.exception()}")
        except _NETWORK_ERRORS as exc:
            raise HubUnreachable(f"event stream failed: {type(exc).__name__}: {exc}") from exc


class FrameStream:
    """One camera's ingest WebSocket (docs/api.md, *Ingest*): each frame or clock exchange waits
    for the hub's answer before the next goes out, so at most one is ever in flight. Not safe for
    concurrent use: the caller serialises (``clients.transport.WsTransport`` holds a lock)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, timeout_s: float) -> None:
        self._ws = ws
        self.timeout_s = timeout_s

    @property
    def closed(self) -> bool:
        return self._ws.closed

    async def _answer(self) -> str:
        try:
            msg = await self._ws.receive(timeout=self.timeout_s)
        except _NETWORK_ERRORS as exc:
            raise HubUnreachable(f"stream: {type(exc).__name__}: {exc}") from exc
        if msg.type is not aiohttp.WSMsgType.TEXT:
            raise HubUnreachable(f"stream closed ({msg.type.name})")
        return msg.data

    async def send_frame(self, header: StreamHeader, jpeg: bytes) -> StreamAck:
        """Send one frame (4-byte big-endian header length, JSON header, JPEG) and wait for its
        ack. Raises ``HubRejected`` with the hub's status and code when the frame was refused (the
        socket stays open), ``HubUnreachable`` when the socket failed (close it and open another)."""
        head = header.model_dump_json().encode()
        try:
            await self._ws.send_bytes(len(head).to_bytes(4, "big") + head + jpeg)
        except _NETWORK_ERRORS as exc:
            raise HubUnreachable(f"stream: {type(exc).__name__}: {exc}") from exc
        text = await self._answer()
        try:
            ack = read(StreamAck, text)
        except ValidationError as exc:
            raise HubUnreachable(f"stream: malformed ack: {exc}") from exc
        if not ack.ok:
            error = ack.error or ErrorDetail(code="rejected", message=text[:200], request_id="")
            raise HubRejected(ack.status or 422, error)
        return ack

    async def time_exchange(self, t0: int) -> TimeReply:
        """One NTP exchange over the socket: ``t0`` is the caller's send stamp (its clock, ns)."""
        try:
            await self._ws.send_str(TimeRequest(t0=t0).model_dump_json())
        except _NETWORK_ERRORS as exc:
            raise HubUnreachable(f"stream: {type(exc).__name__}: {exc}") from exc
        text = await self._answer()
        try:
            return read(TimeReply, text)
        except ValidationError as exc:
            raise HubUnreachable(f"stream: malformed time reply: {exc}") from exc

    async def close(self) -> None:
        await self._ws.close()


def call_hub(hub_url: str, call: Callable[[HubClient], Awaitable[T]], *, token: SecretStr | str | None = None,
             timeout_s: float = 5.0) -> T:
    """Run one ``HubClient`` call from synchronous code, on a session of its own:
    ``call_hub(url, lambda hub: hub.choose_reference("mine"), token=...)``. Raises what the call
    raises. Not from inside a running event loop (it runs one)."""

    async def run() -> T:
        async with open_session(token, timeout_s) as session:
            return await call(HubClient(session, hub_url))

    return asyncio.run(run())
