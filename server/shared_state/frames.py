"""The frame store in Redis: every hub process sees every camera's newest frame and ring.

Layout (``prefix`` defaults to ``formsync:``):

- ``{prefix}ring:{camera_id}``: a stream, one entry per frame (fields ``s`` seq, ``c`` capture time
  ns, ``m`` metadata, ``j`` the JPEG). Entry ids are the capture time in ms (``<ms>-*``, held
  non-decreasing), so the ~1 s ring is trimmed by capture time with ``XTRIM MINID =`` and bounded
  with ``XTRIM MAXLEN =``. Trimming is exact (``=``): approximate trimming (``~``) only drops whole
  radix-tree nodes of ~100 entries, which would keep several seconds of JPEGs per camera.
- ``{prefix}cameras``: a hash, one field per camera: ``seq|frames_total|gaps|last_id_ms|
  first_capture_ns|ring_len|metadata``, so ``cameras()`` is one ``HGETALL``.

``put`` is one Lua script (one round trip, atomic across hubs): new-stream and gap detection, the
append, the trims and the status update, and, when the store is given the events' channel (the
rings live on the events' server), the ``PUBLISH`` of the frame's ``frame`` event: no second round
trip per frame, and a hub reading the event always finds the frame.

A stream rather than a key per frame: one key per camera, trimmed in place by the server, read
newest-first (``XREVRANGE ... COUNT 1``) or whole (``XRANGE``) in one command; bench/ingest.py
measures its cost against the embedded store.

Seqs are compared as Lua numbers (doubles): exact up to 2**53.
"""

from __future__ import annotations

import json

import redis.asyncio as aioredis

from formsync.wire.events import FrameEvent
from server.store import CameraStatus, Frame, PutResult, camera_status

_PUT = """
local cam, seq = ARGV[1], tonumber(ARGV[2])
local capture_ms, ring_ms, ring_max = tonumber(ARGV[3]), tonumber(ARGV[6]), ARGV[7]
local prev = redis.call('HGET', KEYS[2], cam)
local total, gaps, last_ms, new_camera, new_stream = 1, 0, 0, 0, 0
if not prev then
  new_camera, new_stream = 1, 1
  redis.call('DEL', KEYS[1])
else
  local pseq, ptotal, pgaps, plast = string.match(prev, '^([^|]+)|([^|]+)|([^|]+)|([^|]+)|')
  total, gaps, last_ms = tonumber(ptotal) + 1, tonumber(pgaps), tonumber(plast)
  local expected = tonumber(pseq) + 1
  if seq < expected then
    -- a seq at or below the last one: the client restarted its count, a new stream
    new_stream, last_ms = 1, 0
    redis.call('DEL', KEYS[1])
  elseif seq > expected then
    gaps = gaps + (seq - expected)
  end
end
local id_ms = math.max(capture_ms, last_ms)
redis.call('XADD', KEYS[1], string.format('%.0f-*', id_ms), 's', ARGV[2], 'c', ARGV[4], 'm', ARGV[5], 'j', ARGV[8])
redis.call('XTRIM', KEYS[1], 'MINID', '=', string.format('%.0f', math.max(0, capture_ms - ring_ms)))
redis.call('XTRIM', KEYS[1], 'MAXLEN', '=', ring_max)
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][2][4]
local n = redis.call('XLEN', KEYS[1])
redis.call('HSET', KEYS[2], cam, table.concat({ARGV[2], string.format('%.0f', total), string.format('%.0f', gaps),
  string.format('%.0f', id_ms), first, tostring(n), ARGV[5]}, '|'))
if ARGV[9] ~= '' then
  redis.call('PUBLISH', ARGV[9], ARGV[10])
end
return {new_camera, new_stream}
"""

_BY_SEQ = """
for _, entry in ipairs(redis.call('XREVRANGE', KEYS[1], '+', '-')) do
  if entry[2][2] == ARGV[1] then return entry[2] end
end
return false
"""


def _meta(frame: Frame) -> str:
    return json.dumps([frame.seq, frame.capture_time_ns, frame.hub_receive_time_ns, frame.width, frame.height,
                       frame.source_frame, frame.clock_offset_ns, frame.clock_uncertainty_ns],
                      separators=(",", ":"))


def _frame(camera_id: str, meta: bytes, jpeg: bytes) -> Frame:
    seq, capture, receive, width, height, source, offset, uncertainty = json.loads(meta)
    return Frame(camera_id=camera_id, seq=seq, capture_time_ns=capture, hub_receive_time_ns=receive, jpeg=jpeg,
                 width=width, height=height, source_frame=source, clock_offset_ns=offset,
                 clock_uncertainty_ns=uncertainty)


def _entry_frame(camera_id: str, fields: list) -> Frame:
    # Fields in XADD order: s, seq, c, capture, m, meta, j, jpeg.
    return _frame(camera_id, fields[5], fields[7])


class RedisFrameStore:
    """``FrameStore`` over one Redis database, shared by every hub process that uses it.

    Args:
        client: from ``server.shared_state.connection.connect`` (bytes replies).
        ring_seconds: keep frames whose capture time is within this many seconds of the newest.
        ring_max_frames: hard cap on ring length, whatever the fps.
        prefix: of every key, so several FormSync deployments can share one Redis.
        events_channel: the ``RedisEventBus`` channel, when it is on this same Redis: ``put`` then
            publishes the frame event (``PutResult.announced``).

    Raises ``redis.exceptions.ConnectionError``/``TimeoutError`` from any method when Redis cannot be
    reached (the routes answer 503, ``server.shared_state.connection``).
    """

    def __init__(self, client: aioredis.Redis, ring_seconds: float = 1.0, ring_max_frames: int = 256,
                 prefix: str = "formsync:", events_channel: str | None = None) -> None:
        if ring_seconds <= 0 or ring_max_frames < 2:
            raise ValueError("ring_seconds must be > 0 and ring_max_frames >= 2")
        self.client = client
        self._ring_ns = int(ring_seconds * 1e9)
        self._ring_ms = int(ring_seconds * 1e3)
        self._ring_max = ring_max_frames
        self._prefix = prefix
        self._cameras_key = f"{prefix}cameras"
        self._events_channel = events_channel
        self._put = client.register_script(_PUT)
        self._by_seq = client.register_script(_BY_SEQ)

    def _ring_key(self, camera_id: str) -> str:
        return f"{self._prefix}ring:{camera_id}"

    async def put(self, frame: Frame) -> PutResult:
        event = "" if self._events_channel is None else FrameEvent(
            camera_id=frame.camera_id, seq=frame.seq, capture_time_ns=frame.capture_time_ns,
            hub_receive_time_ns=frame.hub_receive_time_ns, source_frame=frame.source_frame).model_dump_json()
        new_camera, new_stream = await self._put(
            keys=[self._ring_key(frame.camera_id), self._cameras_key],
            args=[frame.camera_id, frame.seq, frame.capture_time_ns // 1_000_000, frame.capture_time_ns,
                  _meta(frame), self._ring_ms, self._ring_max, frame.jpeg, self._events_channel or "", event])
        return PutResult(frame=frame, is_new_camera=bool(new_camera), is_new_stream=bool(new_stream),
                         announced=self._events_channel is not None)

    async def latest(self, camera_id: str) -> Frame | None:
        entries = await self.client.xrevrange(self._ring_key(camera_id), count=1)
        return _frame(camera_id, entries[0][1][b"m"], entries[0][1][b"j"]) if entries else None

    async def ring(self, camera_id: str) -> tuple[Frame, ...]:
        """Frames of the last ``ring_seconds`` by capture time, oldest first."""
        entries = await self.client.xrange(self._ring_key(camera_id))
        frames = [_frame(camera_id, fields[b"m"], fields[b"j"]) for _, fields in entries]
        if not frames:
            return ()
        # MINID trims at ms resolution; the embedded store's rule, to the ns, for the rest.
        horizon = frames[-1].capture_time_ns - self._ring_ns
        start = 0
        while start < len(frames) - 1 and frames[start].capture_time_ns < horizon:
            start += 1
        return tuple(frames[start:])

    async def frame(self, camera_id: str, seq: int) -> Frame | None:
        """The frame with this seq if still in the ring; only that frame crosses the network."""
        fields = await self._by_seq(keys=[self._ring_key(camera_id)], args=[seq])
        return _entry_frame(camera_id, fields) if fields else None

    async def cameras(self) -> list[CameraStatus]:
        out = []
        for cid, status in sorted((await self.client.hgetall(self._cameras_key)).items()):
            _, total, gaps, _, first, n, meta = status.split(b"|", 6)
            camera_id = cid.decode()
            out.append(camera_status(camera_id, _frame(camera_id, meta, b""), int(first), int(n), int(total),
                                     int(gaps)))
        return out
