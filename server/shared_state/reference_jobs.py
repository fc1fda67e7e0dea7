"""``ReferenceJobQueue`` in Redis (``server.references.jobs`` has the behaviour): any hub takes a
video, any worker asking any hub gets each job, exactly one of them.

Delivery is a Redis stream read by one consumer group (``builders``), each worker a consumer: every
entry goes to exactly one consumer, which is what a job needs and what the group is for. The job's
state (running, its worker, progress, the lease) lives beside it, so a lease renewed by progress
reports and a job given up on are decided by that state, not by the stream's idle times:

- ``{p}refjob:{id}``: hash of the job's ``ReferenceJob`` fields, each a JSON value (Lua edits them
  as strings, never re-encoding a ns timestamp through Lua's doubles), plus ``_entry``, the stream
  entry it was delivered by;
- ``{p}refjobs``: sorted set of job ids by ``created_time_ns`` (``list``, forgetting old ones);
- ``{p}refjobs:queue``: the stream; entries ``{job_id}``; acknowledged when the job ends or is
  queued again (a new entry, so it goes to the next worker to ask);
- ``{p}refjob-video:{id}``: the job's video, a list of ``VIDEO_CHUNK`` byte chunks, deleted when the
  job ends. Redis holds every queued video (``FORMSYNC_HUB_MAX_VIDEO_BYTES`` each at most); a hub
  serving a video it did not receive copies it to ``video_dir`` first.

Claims, reports and expiries are each one Lua script: across hubs, a report from a worker that no
longer holds the job is refused and one expired job is queued again (or failed) once. Jobs survive a
Redis restart with ``appendonly yes``. Methods block on Redis: call them from a thread.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import redis
from redis.exceptions import ResponseError

from server.references.jobs import ENDED, KEEP_ENDED, JobConflict, JobNotFound
from server.shared_state.connection import REDIS_DOWN

log = logging.getLogger("formsync.hub.reference_jobs")

PREFIX = "formsync:"
GROUP = "builders"
VIDEO_CHUNK = 4 * 1024 * 1024
"""Bytes per list element of a stored video: a few round trips per video, no huge single reply."""
STREAM_MAXLEN = 1000
"""Entries kept in the stream (approximately); delivered ones are only history."""

_CLAIM = """
local stream, group, consumer, worker_json, now, prefix = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
while true do
  local got = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', 1, 'STREAMS', stream, '>')
  if not got then return false end
  local entry = got[1][2][1]
  local job_id = entry[2][2]
  local key = prefix .. 'refjob:' .. job_id
  if redis.call('HGET', key, 'state') == '"queued"' then
    redis.call('HSET', key, 'state', '"running"', 'worker_id', worker_json, 'frames_done', '0',
               'updated_time_ns', now, '_entry', entry[1])
    redis.call('HINCRBY', key, 'attempts', 1)
    return job_id
  end
  redis.call('XACK', stream, group, entry[1])  -- a job forgotten or ended meanwhile
end
"""

_REPORT = """
local key, stream, video = KEYS[1], KEYS[2], KEYS[3]
if redis.call('EXISTS', key) == 0 then return 'missing' end
if redis.call('HGET', key, 'state') ~= '"running"' or redis.call('HGET', key, 'worker_id') ~= ARGV[1] then
  return 'conflict'
end
if ARGV[2] == 'end' then
  redis.call('XACK', stream, ARGV[3], redis.call('HGET', key, '_entry'))
  redis.call('DEL', video)
end
for i = 4, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
return 'ok'
"""

_EXPIRE = """
local key, stream, video = KEYS[1], KEYS[2], KEYS[3]
local group, updated, attempts, now, error_json, job_id, maxlen = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4],
  ARGV[5], ARGV[6], ARGV[7]
if redis.call('HGET', key, 'state') ~= '"running"' or redis.call('HGET', key, 'updated_time_ns') ~= updated then
  return false
end
redis.call('XACK', stream, group, redis.call('HGET', key, '_entry'))
if tonumber(redis.call('HGET', key, 'attempts')) >= attempts then
  redis.call('HSET', key, 'state', '"failed"', 'error', error_json, 'updated_time_ns', now)
  redis.call('DEL', video)
  return 'failed'
end
redis.call('HSET', key, 'state', '"queued"', 'worker_id', 'null', 'frames_done', '0', 'updated_time_ns', now)
redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'job_id', job_id)
return 'queued'
"""


def _encode(job: dict) -> dict[str, str]:
    return {k: json.dumps(v) for k, v in job.items()}


def _decode(raw: dict[bytes, bytes]) -> dict | None:
    if not raw:
        return None
    return {k.decode(): json.loads(v) for k, v in raw.items() if not k.startswith(b"_")}


class RedisJobQueue:
    """Args:
        client: from ``server.shared_state.connection.connect_sync`` (closed here if ``owns_client``).
        video_dir: where this hub receives uploads and keeps copies of videos it serves.
        lease_s, attempts, clock: as ``EmbeddedJobQueue``'s.
    """

    def __init__(self, client: redis.Redis, video_dir: str | Path, *, lease_s: float = 60.0, attempts: int = 2,
                 clock: Callable[[], int] = time.time_ns, prefix: str = PREFIX, owns_client: bool = False) -> None:
        self._redis = client
        self._owns = owns_client
        self._p = prefix
        self.video_dir = Path(video_dir)
        self.video_dir.mkdir(parents=True, exist_ok=True)
        self.lease_ns = int(lease_s * 1e9)
        self.attempts = attempts
        self._clock = clock
        self._stream, self._index = f"{prefix}refjobs:queue", f"{prefix}refjobs"
        self._claim = client.register_script(_CLAIM)
        self._report = client.register_script(_REPORT)
        self._expire = client.register_script(_EXPIRE)
        try:
            self._ensure_group()
            self._forget_old()
            for path in self.video_dir.iterdir():  # copies of videos whose job ended or is unknown
                job = self.get(path.stem) if path.suffix == ".video" else None
                if path.suffix == ".video" and (job is None or job["state"] in ENDED):
                    path.unlink(missing_ok=True)
        except REDIS_DOWN as exc:  # the hub starts anyway; the first claim creates the group
            log.warning("Redis unavailable while opening the reference job queue: %s", exc)

    def _key(self, job_id: str) -> str:
        return f"{self._p}refjob:{job_id}"

    def _video_key(self, job_id: str) -> str:
        return f"{self._p}refjob-video:{job_id}"

    def _ensure_group(self) -> None:
        try:
            # From the stream's start: entries queued before the group existed are jobs too.
            self._redis.xgroup_create(self._stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _forget_old(self) -> None:
        ids = [i.decode() for i in self._redis.zrange(self._index, 0, -1)]
        states = [self._redis.hget(self._key(i), "state") for i in ids]
        ended = [i for i, s in zip(ids, states, strict=True) if s is not None and json.loads(s) in ENDED]
        gone = [i for i, s in zip(ids, states, strict=True) if s is None]
        old = ended[:max(0, len(ended) - KEEP_ENDED)] + gone
        if old:
            pipe = self._redis.pipeline()
            for job_id in old:
                pipe.delete(self._key(job_id), self._video_key(job_id))
            pipe.zrem(self._index, *old)
            pipe.execute()

    def submit(self, name: str, source: str, video: Path) -> dict:
        job_id = uuid.uuid4().hex
        now = self._clock()
        size = video.stat().st_size
        local = self.video_dir / f"{job_id}.video"
        os.replace(video, local)
        job = {"job_id": job_id, "name": name, "source": source, "state": "queued", "video_bytes": size,
               "worker_id": None, "frames_done": 0, "frames_total": None, "attempts": 0,
               "content_hash": None, "error": None, "created_time_ns": now, "updated_time_ns": now}
        try:
            with local.open("rb") as f:
                while chunk := f.read(VIDEO_CHUNK):
                    self._redis.rpush(self._video_key(job_id), chunk)
            pipe = self._redis.pipeline()  # MULTI: the job, its place in the list and its entry at once
            pipe.hset(self._key(job_id), mapping=_encode(job))
            pipe.zadd(self._index, {job_id: now})
            pipe.xadd(self._stream, {"job_id": job_id}, maxlen=STREAM_MAXLEN, approximate=True)
            pipe.execute()
        except redis.RedisError:
            local.unlink(missing_ok=True)
            self._redis.delete(self._video_key(job_id))
            raise
        return job

    def claim(self, worker_id: str) -> dict | None:
        args = [GROUP, worker_id, json.dumps(worker_id), str(self._clock()), self._p]
        try:
            job_id = self._claim(keys=[self._stream], args=args)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._ensure_group()  # Redis restarted without the group
            job_id = self._claim(keys=[self._stream], args=args)
        return None if job_id is None else self.get(job_id.decode())

    def video(self, job_id: str) -> Path | None:
        job = self.get(job_id)
        local = self.video_dir / f"{job_id}.video"
        if job is None or job["state"] in ENDED:
            local.unlink(missing_ok=True)
            return None
        if local.exists():
            return local
        key = self._video_key(job_id)
        chunks = self._redis.llen(key)
        if not chunks:
            return None
        part = self.video_dir / f".copy-{uuid.uuid4().hex}"
        try:
            with part.open("wb") as f:
                for k in range(chunks):
                    f.write(self._redis.lindex(key, k) or b"")
            os.replace(part, local)
        finally:
            part.unlink(missing_ok=True)
        return local

    def _change(self, job_id: str, worker_id: str, ends: bool, **fields) -> dict:
        keys = [self._key(job_id), self._stream, self._video_key(job_id)]
        args = [json.dumps(worker_id), "end" if ends else "", GROUP]
        for k, v in {**fields, "updated_time_ns": self._clock()}.items():
            args += [k, json.dumps(v)]
        outcome = self._report(keys=keys, args=args).decode()
        if outcome == "missing":
            raise JobNotFound(job_id)
        job = self.get(job_id)
        if outcome == "conflict":
            raise JobConflict(f"job {job_id} is {job['state']}"
                              + (f" for worker {job['worker_id']}" if job["worker_id"] else ""), job)
        if ends:
            (self.video_dir / f"{job_id}.video").unlink(missing_ok=True)
        return job

    def progress(self, job_id: str, worker_id: str, frames_done: int, frames_total: int | None) -> dict:
        return self._change(job_id, worker_id, False, frames_done=frames_done, frames_total=frames_total or None)

    def finish(self, job_id: str, worker_id: str, content_hash: str) -> dict:
        job = self.get(job_id)
        done = (job["frames_total"] or job["frames_done"]) if job else 0
        return self._change(job_id, worker_id, True, state="done", content_hash=content_hash, frames_done=done)

    def fail(self, job_id: str, worker_id: str, code: str, message: str) -> dict:
        return self._change(job_id, worker_id, True, state="failed", error={"code": code, "message": message})

    def get(self, job_id: str) -> dict | None:
        return _decode(self._redis.hgetall(self._key(job_id)))

    def _all(self) -> list[dict]:
        ids = self._redis.zrevrange(self._index, 0, -1)
        pipe = self._redis.pipeline(transaction=False)
        for job_id in ids:
            pipe.hgetall(self._key(job_id.decode()))
        return [job for job in map(_decode, pipe.execute()) if job is not None]

    def list(self, limit: int = 20) -> list[dict]:
        return self._all()[:limit]

    def expire(self, now_ns: int | None = None) -> list[dict]:
        now = self._clock() if now_ns is None else now_ns
        changed = []
        for job in self._all():
            if job["state"] != "running" or now - job["updated_time_ns"] < self.lease_ns:
                continue
            error = {"code": "worker_lost",
                     "message": f"{job['attempts']} worker(s) took the job and stopped answering"}
            keys = [self._key(job["job_id"]), self._stream, self._video_key(job["job_id"])]
            outcome = self._expire(keys=keys, args=[GROUP, json.dumps(job["updated_time_ns"]), self.attempts, now,
                                                   json.dumps(error), job["job_id"], STREAM_MAXLEN])
            if outcome is None:
                continue  # renewed meanwhile, or another hub got there first
            if outcome == b"failed":
                log.warning("reference job %s (%s) failed: %d worker(s) stopped answering",
                            job["job_id"], job["name"], job["attempts"])
                (self.video_dir / f"{job['job_id']}.video").unlink(missing_ok=True)
            else:
                log.warning("reference job %s (%s): worker %s stopped answering; queued again",
                            job["job_id"], job["name"], job["worker_id"])
            changed.append(self.get(job["job_id"]))
        return changed

    def close(self) -> None:
        if self._owns:
            self._redis.close()
