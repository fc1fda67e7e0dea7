"""The typed hub client against a real hub (uvicorn on a loopback port): one method per endpoint,
answers as wire models, and one exception pair for everything that goes wrong."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from aiohttp import web

from formsync.hub_client import HubClient, HubRejected, HubUnreachable, call_hub, open_session
from formsync.wire.analysis import AnalysisIn, AnalysisOut, RepState
from formsync.wire.events import FrameEvent, parse_event
from formsync.wire.frames import CameraOut, FrameMeta, StreamHeader
from formsync.wire.monitoring import HeartbeatIn, HostStats, ProcessStats
from formsync.wire.sets import SetIn
from tests.support import RunningHub, free_port

TOKENS = {"camera": "c" * 24, "worker": "w" * 24, "viewer": "v" * 24}


def run(hub_url: str, call, token=None):
    return call_hub(hub_url, call, token=token, timeout_s=5)


def test_a_camera_uploads_and_a_reader_reads_it_back(hub, clip_jpegs):
    now = time.time_ns()

    async def scenario(c: HubClient):
        metas = [await c.upload_frame("side", clip_jpegs[i], seq=i, capture_time_ns=now + i * 33_000_000,
                                      source_frame=100 + i, clock_offset_ns=-5, clock_uncertainty_ns=300, fps=30)
                 for i in range(3)]
        return metas, await c.cameras(), await c.latest_frame("side"), await c.frame("side", 1), \
            await c.frame("side", 99), await c.latest_frame("front")

    metas, cameras, latest, by_seq, gone, never = run(hub.url, scenario)
    assert all(isinstance(m, FrameMeta) for m in metas) and metas[2].seq == 2 and metas[0].clock_offset_ns == -5
    [cam] = cameras
    assert isinstance(cam, CameraOut) and (cam.camera_id, cam.seq, cam.frames_total) == ("side", 2, 3)
    assert (latest.seq, latest.source_frame, latest.jpeg) == (2, 102, clip_jpegs[2])
    assert (by_seq.seq, by_seq.capture_time_ns) == (1, now + 33_000_000)
    assert gone is None and never is None  # left the ring / never sent: 404 reads as "nothing"


def test_refusals_carry_the_hubs_error_code(hub, clip_jpegs):
    now = time.time_ns()

    async def too_far_ahead(c: HubClient):
        await c.upload_frame("side", clip_jpegs[0], seq=0, capture_time_ns=now + 60 * 10**9)

    with pytest.raises(HubRejected) as err:
        run(hub.url, too_far_ahead)
    assert (err.value.status, err.value.code) == (422, "capture_time_in_future")

    async def not_a_jpeg(c: HubClient):
        await c.upload_frame("side", b"GIF89a....", seq=0, capture_time_ns=now)

    with pytest.raises(HubRejected) as err:
        run(hub.url, not_a_jpeg)
    assert (err.value.status, err.value.code) == (415, "unsupported_media_type")
    with pytest.raises(HubRejected) as err:
        run(hub.url, lambda c: c.calibrate_gaze("nobody"))
    assert err.value.code == "camera_not_found"


def test_results_sets_references_and_heartbeats_go_out_as_models(hub, clip_jpegs, reference_bundles):
    from tests.server.test_reference_api import repacked

    deep = repacked(reference_bundles["default"], name="deep")
    now = time.time_ns()
    result = AnalysisIn(seq=0, capture_time_ns=now, processing_ms=4.0, pose_found=False,
                        rep=RepState(count=0, phase="top"))
    body = SetIn(set_id="b" * 32, status="closed", end_reason="rest", started_at_ns=now, ended_at_ns=now + 10**9,
                 reps=2, mean_score=81.5)
    beat = HeartbeatIn(process_id="worker:pc:w1", role="worker", interval_s=2.0, sent_time_ns=now,
                       host=HostStats(hostname="pc"), process=ProcessStats(pid=1, name="formsync-worker"))

    async def scenario(c: HubClient):
        await c.upload_frame("side", clip_jpegs[0], seq=0, capture_time_ns=now)
        posted = await c.post_analysis("side", result)
        try:
            await c.post_analysis("side", result.model_copy(update={"seq": 0, "capture_time_ns": now - 1}))
        except HubRejected as exc:
            stale = exc.code
        put = await c.put_set("side", body)
        stored = await c.put_reference("deep", deep)
        assert (await c.reference_meta("deep")) == stored and (await c.reference_meta("nope")) is None
        data = await c.reference_data("deep")
        assert data.content_hash == stored.content_hash
        assert [r.name for r in (await c.references()).references] == ["deep"]
        chosen = await c.choose_reference("deep")
        beat_out = await c.post_heartbeat(beat)
        return (posted, stale, await c.analysis("side"), put, await c.live_set("side"), await c.sets(),
                await c.set("b" * 32), await c.set("c" * 32), chosen, await c.reference(), beat_out,
                await c.heartbeats(), await c.forget_process("worker:pc:w1"), await c.forget_process("worker:pc:w1"),
                await c.calibrate_gaze("side", 1.5), await c.reset_gaze("side"), await c.alerts(5),
                await c.health(), await c.metrics())

    (posted, stale, latest, put, live, listed, one, unknown, chosen, reference, beat_out, beats, forgot, again,
     cal, reset, alerts, health, metrics) = run(hub.url, scenario)
    assert isinstance(posted, AnalysisOut) and posted.camera_id == "side" and stale == "stale_result"
    assert latest.seq == 0 and latest.rep.phase == "top"
    assert put.persisted and live.set_id == one.set_id == "b" * 32 and unknown is None
    assert [s.reps for s in listed.sets] == [2] and listed.unsaved == 0
    assert chosen.name == reference.name == "deep" and chosen.content_hash == reference.content_hash
    assert beat_out.heartbeats_total == 1 and "worker:pc:w1" in {p.process_id for p in beats.processes}
    assert (forgot, again) == (True, False)
    assert (cal.action, cal.duration_s, reset.action) == ("start", 1.5, "reset")
    assert {r.name for r in alerts.rules} >= {"cpu_high", "camera_stale"}
    assert health.cameras == 1 and "formsync_frames_received_total" in metrics


def test_the_ingest_websocket_acks_refuses_and_exchanges_time(hub, clip_jpegs):
    now = time.time_ns()

    async def scenario():
        async with open_session() as session:
            stream = await HubClient(session, hub.url).open_stream("ws-cam")
            try:
                ack = await stream.send_frame(StreamHeader(seq=0, capture_time_ns=now, fps=30.0), clip_jpegs[0])
                with pytest.raises(HubRejected) as err:
                    await stream.send_frame(StreamHeader(seq=1, capture_time_ns=now + 60 * 10**9), clip_jpegs[1])
                t0 = time.time_ns()
                reply = await stream.time_exchange(t0)
                again = await stream.send_frame(StreamHeader(seq=2, capture_time_ns=now + 1), clip_jpegs[2])
            finally:
                await stream.close()
            return ack, err.value, t0, reply, again

    ack, refused, t0, reply, again = asyncio.run(scenario())
    assert ack.ok and ack.seq == 0 and again.seq == 2  # the socket stays open after a refusal
    assert (refused.status, refused.code) == (422, "capture_time_in_future")
    assert reply.t0 == t0 <= reply.t1 <= reply.t2


def test_events_arrive_as_text_the_wire_parses(hub, clip_jpegs):
    async def scenario():
        async with open_session() as session:
            client = HubClient(session, hub.url)
            async with client.events(frozenset({"frame"})) as stream:
                await client.upload_frame("side", clip_jpegs[0], seq=7, capture_time_ns=time.time_ns())
                async for text in stream:
                    return parse_event(text)

    event = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert isinstance(event, FrameEvent) and (event.camera_id, event.seq) == ("side", 7)


def test_tokens_travel_with_the_session(clip_jpegs):
    with RunningHub(camera_tokens=TOKENS["camera"], worker_tokens=TOKENS["worker"],
                    viewer_tokens=TOKENS["viewer"]) as hub:
        assert run(hub.url, lambda c: c.cameras(), token=TOKENS["viewer"]) == []
        with pytest.raises(HubRejected) as err:
            run(hub.url, lambda c: c.cameras())
        assert (err.value.status, err.value.code) == (401, "missing_token")
        with pytest.raises(HubRejected) as err:
            run(hub.url, lambda c: c.cameras(), token=TOKENS["camera"])
        assert (err.value.status, err.value.code) == (403, "forbidden")


def test_no_hub_is_unreachable():
    with pytest.raises(HubUnreachable):
        run(f"http://127.0.0.1:{free_port()}", lambda c: c.cameras())


class OddServer:
    """A real HTTP server on loopback that answers like a broken hub or a proxy in front of one."""

    def __init__(self) -> None:
        self.port = free_port()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _serve(self) -> None:
        async def cameras(request):
            return web.json_response({"cameras": [{"camera_id": 5}]})

        async def sets(request):
            return web.Response(status=503, text="upstream down")

        async def heartbeats(request):
            return web.Response(status=418, text="<html>teapot</html>")

        app = web.Application()
        app.router.add_get("/api/v1/cameras", cameras)
        app.router.add_get("/api/v1/sets", sets)
        app.router.add_get("/api/v1/heartbeats", heartbeats)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._serve())

    def __enter__(self) -> str:
        self._thread.start()
        assert self._ready.wait(5)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)


def test_malformed_answers_and_5xx_are_unreachable_and_other_4xx_are_rejections():
    with OddServer() as url:
        with pytest.raises(HubUnreachable, match="malformed answer"):
            run(url, lambda c: c.cameras())
        with pytest.raises(HubUnreachable, match="503"):
            run(url, lambda c: c.sets())
        with pytest.raises(HubRejected) as err:
            run(url, lambda c: c.heartbeats())
        assert err.value.code == "http_418" and "teapot" in err.value.message
