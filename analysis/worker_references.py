"""The references a worker scores against, all read from the hub.

A camera is scored against the chosen reference when it is of the camera's view, else against the
hub's default reference of that view (``analysis.reference.ReferenceSet``, ``paths.DEFAULT_REFERENCES``).
``WorkerReferences.refresh`` reads the chosen name and the metadata of every reference the set
needs, and downloads the per-frame data of a version only when its content hash is not in the
worker's cache: a reference rebuilt under the same name has a new hash, so it reaches the worker
(the hub announces it with a ``reference`` event, and the worker refreshes), and an unchanged one is
never downloaded twice.

A worker that finds the hub without a default reference builds it in its own library
(``ReferenceLibrary.ensure``: from the shared footage, seconds from the pose cache) and uploads it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

from analysis.paths import DEFAULT_REFERENCE_NAME, DEFAULT_REFERENCES
from analysis.reference import Reference, ReferenceLibrary, ReferenceSet
from formsync.hub_client import HubClient
from formsync.reference_bundle import pack_folder
from formsync.wire.references import ReferenceMeta

log = logging.getLogger("formsync.worker.references")

CACHE_SIZE = 8
"""References kept in memory: the three defaults, a chosen one and the versions just replaced."""


class WorkerReferences:
    """Args:
        library: where missing defaults are built before they are uploaded; None: never build them.
        cache_size: references kept in memory, by name and content hash (two names may hold the
            same data, and results name the reference they were scored against).

    Runs on the worker's event loop; the ``ReferenceSet`` objects it returns are read-only and
    shared by the cameras' threads.
    """

    def __init__(self, library: ReferenceLibrary | None = None, cache_size: int = CACHE_SIZE) -> None:
        self.library = library
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str], Reference] = OrderedDict()
        self.current: ReferenceSet | None = None
        self._missing_logged: set[str] = set()

    @property
    def names_in_use(self) -> set[str]:
        """Names whose change matters to this worker: the chosen one and the defaults."""
        chosen = {self.current.chosen.name} if self.current is not None else set()
        return chosen | {name for name, _ in DEFAULT_REFERENCES.values()}

    async def upload_missing_defaults(self, client: HubClient) -> list[str]:
        """Build (if need be) and upload each default the hub lacks; returns the names uploaded.
        A default whose clip is missing here is logged once and skipped."""
        if self.library is None:
            return []
        stored = {r.name for r in (await client.references()).references}
        uploaded = []
        for name, _ in DEFAULT_REFERENCES.values():
            if name in stored:
                continue
            try:
                await asyncio.to_thread(self.library.ensure, name)
                bundle = await asyncio.to_thread(pack_folder, self.library.path(name))
            except FileNotFoundError as exc:
                if name not in self._missing_logged:
                    self._missing_logged.add(name)
                    log.warning("the hub has no default reference %r and this worker cannot build it: %s",
                                name, exc)
                continue
            meta = await client.put_reference(name, bundle)
            log.info("uploaded default reference %r (%s view, hash %s)", name, meta.view, meta.content_hash[:12])
            uploaded.append(name)
        return uploaded

    async def refresh(self, client: HubClient) -> ReferenceSet | None:
        """The reference set the hub's references make now (None while the hub has neither the
        chosen reference nor the side default); ``current`` is updated. Raises HubUnreachable,
        HubRejected."""
        chosen = (await client.reference()).name or DEFAULT_REFERENCE_NAME
        defaults = {view: name for view, (name, _) in DEFAULT_REFERENCES.items()}
        names = sorted({chosen, *defaults.values()})
        metas = await asyncio.gather(*(client.reference_meta(n) for n in names))
        loaded = {}
        for name, meta in zip(names, metas):
            if meta is not None:
                ref = await self._load(client, meta)
                if ref is not None:
                    loaded[name] = ref
        main = loaded.get(chosen) or loaded.get(DEFAULT_REFERENCE_NAME)
        if main is None:
            self.current = None
            return None
        self.current = ReferenceSet(main, {view: loaded[n] for view, n in defaults.items() if n in loaded})
        return self.current

    async def _load(self, client: HubClient, meta: ReferenceMeta) -> Reference | None:
        """The reference of ``meta``'s version, from the cache or downloaded; None when it changed
        or vanished meanwhile (the ``reference`` event of that change brings a new refresh)."""
        key = (meta.name, meta.content_hash)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        data = await client.reference_data(meta.name)
        if data is None or data.content_hash != meta.content_hash:
            return None
        try:
            # Recomputing every frame's features takes a while: not on the loop.
            ref = await asyncio.to_thread(Reference.from_data, meta, data.data)
        except ValueError as exc:
            log.warning("reference %r from the hub is unusable here: %s", meta.name, exc)
            return None
        self._cache[key] = ref
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return ref
