"""The hub's live view: display tokens, the live socket's frames and sets, and its viewers."""

import asyncio
import json
import time

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from formsync.hub_client import HubClient, HubRejected, open_session
from formsync.live_stream import LiveRefused, open_live, unpack
from server.errors import ApiError
from server.events import EventBus
from server.live.fanout import LiveFanout
from server.live.tokens import DisplayTokens
from server.live.viewer import send_forever
from server.results import EmbeddedLatestResults
from server.store import Frame, InMemoryFrameStore
from tests.conftest import synthetic_jpeg
from tests.support import RunningHub

TOKENS = {"camera": "c" * 24, "viewer": "v" * 24, "worker": "w" * 24}


@pytest.fixture(scope="module")
def live_hub():
    with RunningHub(camera_tokens=[TOKENS["camera"]], viewer_tokens=[TOKENS["viewer"]],
                    worker_tokens=[TOKENS["worker"]], display_token_ttl_s=0.5) as hub:
        yield hub


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


async def _token(hub) -> str:
    async with open_session(TOKENS["viewer"]) as s:
        return (await HubClient(s, hub.url).display_token()).token


async def _upload(hub, camera_id: str, seq: int, capture_ns: int, jpeg: bytes) -> None:
    async with open_session(TOKENS["camera"]) as s:
        await HubClient(s, hub.url).upload_frame(camera_id, jpeg, seq=seq, capture_time_ns=capture_ns, fps=30)


def test_tokens_are_minted_for_viewers_only(live_hub):
    async def scenario():
        out = []
        for token in (None, TOKENS["camera"]):
            async with open_session(token) as s:
                try:
                    await HubClient(s, live_hub.url).display_token()
                except HubRejected as exc:
                    out.append((exc.status, exc.code))
        return out

    assert run(scenario()) == [(401, "missing_token"), (403, "forbidden")]


def test_token_check_refuses_foreign_tampered_and_expired_tokens():
    tokens, other = DisplayTokens(60), DisplayTokens(60)
    token, expires = tokens.mint(now_ns=1_000)
    assert tokens.check(token, now_ns=2_000) == expires == 1_000 + 60 * 10**9
    body, sig = token.split(".")
    for bad, code in [(other.mint()[0], "invalid_display_token"), (body + "x." + sig, "invalid_display_token"),
                      ("garbage", "invalid_display_token"), ("", "missing_display_token"),
                      (token, "display_token_expired")]:
        with pytest.raises(ApiError) as err:
            tokens.check(bad, now_ns=expires)
        assert (err.value.status, err.value.code) == (401, code)


def test_socket_refuses_bad_and_expired_tokens(live_hub):
    async def refused(token):
        async with aiohttp.ClientSession() as s:
            try:
                ws, _ = await open_live(s, live_hub.url, token, cameras=["a"])
            except LiveRefused as exc:
                return exc.code
            await ws.close()
            return "accepted"

    async def scenario():
        token = await _token(live_hub)
        first = await refused(token)
        # The hub runs with 0.5 s tokens: wait for this one to run out on the hub's clock.
        await asyncio.sleep(0.55)
        return first, await refused("x" * 40), await refused(token)

    assert run(scenario()) == ("accepted", "invalid_display_token", "display_token_expired")


def test_socket_streams_newest_frames_and_sets_and_forgets_closed_viewers(live_hub):
    jpegs = {"a": synthetic_jpeg(10), "b": synthetic_jpeg(200)}

    async def scenario():
        token = await _token(live_hub)
        async with aiohttp.ClientSession() as s, open_session(TOKENS["viewer"]) as vs:
            ws, ready = await open_live(s, live_hub.url, token, cameras=["a", "b"], sync=True)
            viewers = await HubClient(vs, live_hub.url).live_viewers()
            listed = [v.viewer_id for v in viewers.viewers]
            base = time.time_ns() - 10**9
            got = []
            for i in range(3):
                await _upload(live_hub, "a", i, base + i * 33_000_000, jpegs["a"])
                await _upload(live_hub, "b", i, base + i * 33_000_000 + 1_000_000, jpegs["b"])
            def done() -> bool:
                shown = {(m.header.camera_id, m.header.seq) for m in got if m.header.kind == "frame"}
                return any(m.header.kind == "sync" for m in got) and {("a", 2), ("b", 2)} <= shown

            while not done():
                got.append(unpack(await ws.receive_bytes(timeout=5)))
            await ws.close()
            gone = await _wait_gone(HubClient(vs, live_hub.url), ready.viewer_id)
            async with vs.get(f"{live_hub.url}/metrics") as r:
                metrics = {m.name: m for m in text_string_to_metric_families(await r.text())}
            return ready, listed, got, gone, metrics

    ready, listed, got, gone, metrics = run(scenario())
    assert ready.viewer_id in listed
    frames = [m for m in got if m.header.kind == "frame"]
    assert all(m.jpegs == (jpegs[m.header.camera_id],) for m in frames)
    assert all(m.header.width == 64 and m.header.height == 48 for m in frames)
    seqs = {c: [m.header.seq for m in frames if m.header.camera_id == c] for c in "ab"}
    assert all(s == sorted(s) for s in seqs.values()), seqs  # never an older frame after a newer one
    sync = next(m for m in got if m.header.kind == "sync")
    assert [f.camera_id for f in sync.header.frames] == ["a", "b"]
    assert sync.header.frames[0].seq == sync.header.frames[1].seq  # the same moment of both cameras
    assert sync.header.spread_ms == pytest.approx(1.0)
    assert sync.jpegs == (jpegs["a"], jpegs["b"])
    assert gone
    # A closed socket's messages still count in /metrics, and it no longer counts as a viewer.
    assert metrics["formsync_live_viewers"].samples[0].value == 0
    sent = metrics["formsync_live_messages_sent"].samples[0]
    assert sent.name == "formsync_live_messages_sent_total" and sent.value >= len(got)


async def _wait_gone(client: HubClient, viewer_id: str) -> bool:
    for _ in range(100):
        if viewer_id not in [v.viewer_id for v in (await client.live_viewers()).viewers]:
            return True
        await asyncio.sleep(0.02)
    return False


def test_a_stalled_viewer_loses_only_its_own_frames():
    """Two viewers of one camera; one's socket stops taking messages. Dispatching never waits,
    the other gets every frame, the stalled one gets the newest when it resumes and counts drops."""

    async def scenario():
        bus, store, results = EventBus(), InMemoryFrameStore(), EmbeddedLatestResults()
        fanout = LiveFanout(bus)
        fast, slow = fanout.add(), fanout.add()
        got = {"fast": [], "slow": []}
        stall = asyncio.Event()

        async def sender(name):
            async def send(message: bytes) -> None:
                if name == "slow":
                    await stall.wait()
                got[name].append(unpack(message).header.seq)
            return send

        async def no_text(_):
            pass

        tasks = [asyncio.create_task(send_forever(v, store, results, await sender(n), no_text))
                 for v, n in ((fast, "fast"), (slow, "slow"))]
        for v in (fast, slow):
            v.watch(frozenset({"a"}), sync=False, analysis=False)
        for seq in range(50):
            await store.put(Frame("a", seq, 1_000 + seq, 1_000 + seq, synthetic_jpeg(seq), 64, 48))
            started = time.perf_counter()
            fanout.dispatch({"type": "frame", "camera_id": "a", "seq": seq})
            assert time.perf_counter() - started < 0.01
            for _ in range(3):
                await asyncio.sleep(0)  # the fast viewer's turn to send
        stall.set()
        while not got["slow"] or got["slow"][-1] != 49:
            await asyncio.sleep(0.001)
        for t in tasks:
            t.cancel()
        totals = fanout.totals()
        fanout.remove(slow)
        return got, slow.mailbox.dropped, fast.mailbox.dropped, totals, fanout.totals()

    got, slow_dropped, fast_dropped, totals, after_close = run(scenario())
    assert got["fast"] == list(range(50)) and fast_dropped == 0
    assert totals == (len(got["fast"]) + len(got["slow"]), slow_dropped) == after_close
    assert got["slow"][-1] == 49 and len(got["slow"]) <= 3 and slow_dropped >= 45


def test_watched_cameras_results_are_sent_for_overlays(live_hub):
    from formsync.wire.analysis import AnalysisIn
    from tests.server.test_analysis_api import result

    async def scenario():
        token = await _token(live_hub)
        async with aiohttp.ClientSession() as s:
            ws, _ = await open_live(s, live_hub.url, token, cameras=["ov"], analysis=True)
            t = time.time_ns() - 10**8
            await _upload(live_hub, "ov", 0, t, synthetic_jpeg(5))
            async with open_session(TOKENS["worker"]) as w:
                await HubClient(w, live_hub.url).post_analysis("ov", AnalysisIn(**result(0, t)))
            got = []
            while not any(m.type == aiohttp.WSMsgType.TEXT for m in got):
                got.append(await ws.receive(timeout=5))
            await ws.close()
            return got

    got = run(scenario())
    text = next(json.loads(m.data) for m in got if m.type == aiohttp.WSMsgType.TEXT)
    assert (text["type"], text["camera_id"], text["result"]["seq"]) == ("analysis", "ov", 0)
    assert text["result"]["landmarks"][0] == [0.5, 0.5, 0.0, 0.9] and text["result"]["rep"]["phase"] == "bottom"
