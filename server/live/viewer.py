"""One live socket's sender: what its mailbox asks for, as the messages of formsync/wire/live.py."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from server.live.fanout import Viewer
from server.results import LatestResults
from server.store import Frame, FrameStore


def pack(header: dict, *jpegs: bytes) -> bytes:
    """``len(4, big-endian) | JSON header | JPEG bytes...``."""
    head = json.dumps(header, separators=(",", ":")).encode()
    return b"".join((len(head).to_bytes(4, "big"), head, *jpegs))


def frame_message(frame: Frame, dropped: int) -> bytes:
    """A ``LiveFrameHeader`` and the frame's JPEG."""
    return pack({"kind": "frame", "camera_id": frame.camera_id, "seq": frame.seq,
                 "capture_time_ns": frame.capture_time_ns, "hub_receive_time_ns": frame.hub_receive_time_ns,
                 "width": frame.width, "height": frame.height, "dropped": dropped}, frame.jpeg)


async def sync_message(event: dict, store: FrameStore, dropped: int) -> bytes | None:
    """A ``LiveSyncHeader`` and its frames' JPEGs, read from the ring by seq; None when one of them
    already left it (sending a newer picture in its place would show different moments)."""
    frames = []
    for f in event["frames"]:
        stored = await store.frame(f["camera_id"], f["seq"])
        if stored is None or stored.capture_time_ns != f["capture_time_ns"]:
            return None
        frames.append(stored)
    return pack({"kind": "sync", "spread_ms": event["spread_ms"], "dropped": dropped,
                 "frames": [{"camera_id": f.camera_id, "seq": f.seq, "capture_time_ns": f.capture_time_ns,
                             "width": f.width, "height": f.height, "bytes": len(f.jpeg)} for f in frames]},
                *(f.jpeg for f in frames))


async def send_forever(viewer: Viewer, store: FrameStore, results: LatestResults,
                       send_bytes: Callable[[bytes], Awaitable[None]],
                       send_text: Callable[[str], Awaitable[None]]) -> None:
    """Send what the viewer's mailbox asks for until cancelled or the socket fails. Results go first
    so a frame's overlay is there when the frame is painted; each camera's frame is read from the
    store at its turn, so a slow socket sends the newest and skips the rest."""
    last: dict[str, tuple[int, int]] = {}
    last_result: dict[str, int] = {}
    while True:
        items = await viewer.mailbox.take()
        for key in items:
            if key[0] == "analysis" and key[1] in viewer.cameras:
                stored = await results.get(key[1])
                if stored is not None and last_result.get(key[1]) != stored.result["capture_time_ns"]:
                    last_result[key[1]] = stored.result["capture_time_ns"]
                    await send_text(json.dumps({"type": "analysis", "camera_id": key[1], "result": stored.result},
                                               separators=(",", ":")))
        for key, item in items.items():
            if key[0] == "frame" and key[1] in viewer.cameras:
                frame = await store.latest(key[1])
                if frame is None or last.get(key[1]) == (frame.seq, frame.capture_time_ns):
                    continue
                last[key[1]] = (frame.seq, frame.capture_time_ns)
                await send_bytes(frame_message(frame, viewer.mailbox.dropped))
                viewer.sent += 1
            elif key[0] == "sync" and viewer.sync:
                message = await sync_message(item, store, viewer.mailbox.dropped)
                if message is not None:
                    await send_bytes(message)
                    viewer.sent += 1
