"""Event subscribers that stop reading: the hub drops their oldest events instead of buffering them
(its memory stays flat) and the subscriber that does read gets every event without delay.

Real processes: the hub (``fastapi_server.py``), a load process pushing frames over the ingest
WebSocket as fast as the hub acknowledges them, and here, stalled subscribers on raw TCP sockets
that complete the WebSocket handshake and then never read a byte (a tiny receive buffer, so the
hub's writes back up at once), beside one subscriber that reads everything.
"""

from __future__ import annotations

import base64
import json
import multiprocessing as mp
import os
import socket
import threading
import time

import numpy as np
import psutil
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from tests.reliability.processes import HubProcess

STALLED = 4
LOAD_CAMERAS = 4
# The load runs until the events published clearly exceed what the stalled sockets' buffers can
# take (~28k frame events with Linux's default 4 MiB tcp_wmem maximum): ~20 s on a shared 2-core
# machine acknowledging ~2.2k frames/s, longer on a slower one, never past MAX_LOAD_S.
ENOUGH = 1.5
MAX_LOAD_S = 90.0
QUEUE = 64


def load(ws_base: str, camera: str, stop, jpeg: bytes, counter) -> None:
    """One camera pushing frames over the ingest WebSocket, each as soon as the last is acked,
    until ``stop`` is set (``MAX_LOAD_S`` at most)."""
    deadline = time.monotonic() + MAX_LOAD_S
    with connect(f"{ws_base}/api/v1/cameras/{camera}/stream") as ws:
        seq = 0
        while time.monotonic() < deadline and not stop.is_set():
            header = json.dumps({"seq": seq, "capture_time_ns": time.time_ns()}).encode()
            ws.send(len(header).to_bytes(4, "big") + header + jpeg)
            if json.loads(ws.recv(5)).get("ok"):
                with counter.get_lock():
                    counter.value += 1
            seq += 1


def stalled_subscriber(port: int) -> socket.socket:
    """A WebSocket subscriber that shakes hands and then never reads (4 KiB receive buffer)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    reply = b""
    while b"\r\n\r\n" not in reply:
        reply += sock.recv(1)
    assert reply.startswith(b"HTTP/1.1 101"), reply
    return sock


def metric(hub_url: str, name: str) -> float:
    import httpx

    for family in text_string_to_metric_families(httpx.get(hub_url + "/metrics").text):
        for sample in family.samples:
            if sample.name == name:
                return sample.value
    raise KeyError(name)


def test_stalled_subscribers_cost_neither_memory_nor_delay(tmp_path):
    from tests.conftest import synthetic_jpeg

    hub = HubProcess(tmp_path, env={"FORMSYNC_HUB_UPLOAD_RATE_FACTOR": "0",
                                    "FORMSYNC_HUB_EVENT_QUEUE_SIZE": str(QUEUE)}).start()
    ws_base = hub.url.replace("http", "ws")
    stalled = [stalled_subscriber(hub.port) for _ in range(STALLED)]
    delays_ms: list[float] = []
    sizes: list[int] = []
    done = threading.Event()

    def read_everything() -> None:
        with connect(ws_base + "/api/v1/events?types=frame") as ws:
            ready.set()
            while not done.is_set():
                try:
                    text = ws.recv(0.5)
                except TimeoutError:
                    continue
                event = json.loads(text)
                sizes.append(len(text))
                delays_ms.append((time.time_ns() - event["hub_receive_time_ns"]) / 1e6)

    ready = threading.Event()
    reader = threading.Thread(target=read_everything, name="fast-subscriber")
    reader.start()
    assert ready.wait(10)
    ctx = mp.get_context("spawn")
    sent, stop = ctx.Value("i", 0), ctx.Event()
    jpeg = synthetic_jpeg(7, size=(120, 160))
    loaders = [ctx.Process(target=load, args=(ws_base, f"load{i}", stop, jpeg, sent), name=f"load{i}")
               for i in range(LOAD_CAMERAS)]
    proc = psutil.Process(hub.pid)
    # What a stalled subscriber can absorb without the hub dropping: its queue, the transport's
    # 64 KiB write buffer, and the kernel's send buffer (autotuned up to tcp_wmem's maximum, kernel
    # memory, not the hub's). Frame events are the smallest kind, so this overestimates it.
    kernel_max = int(open("/proc/sys/net/ipv4/tcp_wmem").read().split()[2])

    def absorbed() -> float:
        return QUEUE + (kernel_max + 65536) / (np.mean(sizes) + 4)
    try:
        for p in loaders:
            p.start()
        time.sleep(2.0)  # warm-up: queues fill, allocator settles
        rss_warm = proc.memory_info().rss
        started = time.monotonic()
        while time.monotonic() - started < MAX_LOAD_S and (
                not sizes or metric(hub.url, "formsync_events_published_total") < ENOUGH * absorbed()):
            time.sleep(0.5)
        load_s = time.monotonic() - started
        stop.set()
        for p in loaders:
            p.join(30)
        rss_end = proc.memory_info().rss
        published = metric(hub.url, "formsync_events_published_total")
        dropped = metric(hub.url, "formsync_events_dropped_total")
        backlog = metric(hub.url, "formsync_event_queue_length")
    finally:
        stop.set()
        done.set()
        reader.join(10)
        for s in stalled:
            s.close()
        for p in loaders:
            if p.is_alive():
                p.kill()
        hub.stop()
    growth_mb = (rss_end - rss_warm) / 2**20
    p99 = float(np.percentile(delays_ms, 99))
    must_drop = STALLED * (published - absorbed())
    print(f"{sent.value} frames in {load_s:.0f} s, {published:.0f} events, {dropped:.0f} dropped for {STALLED} "
          f"stalled subscribers (at least {must_drop:.0f} expected); hub RSS {rss_warm / 2**20:.1f} -> "
          f"{rss_end / 2**20:.1f} MiB; reader delay p50 {np.percentile(delays_ms, 50):.1f} ms p99 {p99:.1f} ms")
    # Enough load that a hub buffering for its stalled subscribers would have to hold it.
    assert published > 1.2 * absorbed(), "load too light to tell dropping from buffering"
    assert dropped >= must_drop
    assert backlog <= (STALLED + 1) * QUEUE
    assert growth_mb < 10, f"hub RSS grew {growth_mb:.1f} MiB"
    # The reading subscriber got the frame events, promptly, stalled neighbours or not.
    assert len(delays_ms) >= 0.9 * sent.value and p99 < 250
