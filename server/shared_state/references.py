"""``ReferenceStore`` in Redis (``server.references.store`` has the behaviour): a reference stored
through any hub is served by every hub, and so is the chosen one.

Keys (``{p}`` = ``formsync:``):

- ``{p}references``: hash name -> JSON ``{"version": str, "meta": ReferenceMeta dump}``;
- ``{p}reference-data:{name}:{version}``: the version's ``arrays.npz`` bytes;
- ``{p}reference-frames:{name}:{version}``: hash seq -> the version's JPEG of that video frame;
- ``{p}reference-chosen``: the chosen reference's name.

A new version's data and pictures are written under their own keys first and made current by one
swap of the name's entry; the previous version's keys are deleted after, so a reader sees the
old reference or the new one, never half of one (a read that finds its version just deleted looks
the name up again). ``choose`` is a Lua script that refuses an unknown name atomically. References
and the choice must survive a Redis restart: run Redis with ``appendonly yes``. Methods block on
Redis: call them from a thread.
"""

from __future__ import annotations

import logging
import time
import uuid

import orjson
import redis

from formsync.reference_bundle import Bundle
from server.references.store import Blob

log = logging.getLogger("formsync.hub.references")

PREFIX = "formsync:"

_SWAP = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return old
"""

_CHOOSE = """
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return false end
redis.call('SET', KEYS[2], ARGV[1])
return entry
"""


class RedisReferenceStore:
    """Args:
        client: from ``server.shared_state.connection.connect_sync`` (closed here if ``owns_client``).
    """

    def __init__(self, client: redis.Redis, *, prefix: str = PREFIX, owns_client: bool = False) -> None:
        self._redis = client
        self._owns = owns_client
        self._p = prefix
        self._index, self._chosen = f"{prefix}references", f"{prefix}reference-chosen"
        self._choose = client.register_script(_CHOOSE)
        self._swap = client.register_script(_SWAP)

    def _data_key(self, name: str, version: str) -> str:
        return f"{self._p}reference-data:{name}:{version}"

    def _frames_key(self, name: str, version: str) -> str:
        return f"{self._p}reference-frames:{name}:{version}"

    def _entry(self, name: str) -> dict | None:
        raw = self._redis.hget(self._index, name)
        return None if raw is None else orjson.loads(raw)

    # -- reads -------------------------------------------------------------------------------
    def list(self) -> list[dict]:
        entries = {k.decode(): orjson.loads(v) for k, v in self._redis.hgetall(self._index).items()}
        return [entries[name]["meta"] for name in sorted(entries)]

    def get(self, name: str) -> dict | None:
        entry = self._entry(name)
        return None if entry is None else entry["meta"]

    def chosen(self) -> str | None:
        name = self._redis.get(self._chosen)
        return None if name is None else name.decode()

    def data(self, name: str) -> Blob | None:
        return self._read(name, lambda version: self._redis.get(self._data_key(name, version)))

    def picture(self, name: str, seq: int) -> Blob | None:
        return self._read(name, lambda version: self._redis.hget(self._frames_key(name, version), str(int(seq))))

    def _read(self, name: str, fetch) -> Blob | None:
        # A version replaced between the look-up and the read is gone: look up again once.
        for _ in range(2):
            entry = self._entry(name)
            if entry is None:
                return None
            body = fetch(entry["version"])
            if body is not None:
                return Blob(entry["meta"]["content_hash"], body)
            current = self._entry(name)
            if current is None or current["version"] == entry["version"]:
                return None
        return None

    # -- writes ------------------------------------------------------------------------------
    def put(self, bundle: Bundle) -> dict:
        content = bundle.content
        name, version = content.name, uuid.uuid4().hex
        meta = {**content.model_dump(mode="json"), "content_hash": bundle.content_hash,
                "data_bytes": len(bundle.data), "pictures": len(bundle.frames),
                "created_time_ns": time.time_ns()}
        data_key, frames_key = self._data_key(name, version), self._frames_key(name, version)
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.set(data_key, bundle.data)
            if bundle.frames:
                pipe.hset(frames_key, mapping={str(seq): jpeg for seq, jpeg in bundle.frames.items()})
            pipe.execute()
            # Atomic: of two hubs storing one name at once, each deletes the version it replaced.
            old = self._swap(keys=[self._index], args=[name, orjson.dumps({"version": version, "meta": meta})])
        except redis.RedisError:
            self._redis.delete(data_key, frames_key)
            raise
        if old is not None:
            previous = orjson.loads(old)["version"]
            self._redis.delete(self._data_key(name, previous), self._frames_key(name, previous))
        log.info("reference %s stored: %d frames, %d pictures, hash %s", name, content.frames,
                 len(bundle.frames), bundle.content_hash[:12])
        return meta

    def choose(self, name: str) -> dict:
        entry = self._choose(keys=[self._index, self._chosen], args=[name])
        if entry is None:
            raise KeyError(name)
        return orjson.loads(entry)["meta"]

    def close(self) -> None:
        if self._owns:
            self._redis.close()
