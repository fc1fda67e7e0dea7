"""A viewer's mailbox: one slot per stream, holding only the newest item."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Any

PROMPT = object()
"""The item of a slot asked for without one of its own (``prompt``)."""


class Mailbox:
    """Size-1 slots keyed by stream (a camera, the synchronised sets, a camera's results).

    ``put`` never waits: an item still unsent in its slot is replaced and counted in ``dropped``,
    so a slow reader gets the newest of each stream and never holds up the writer. Runs on one
    event loop.
    """

    def __init__(self) -> None:
        self._slots: dict[Hashable, Any] = {}
        self._ready = asyncio.Event()
        self.dropped = 0

    def put(self, key: Hashable, item: Any) -> None:
        if self._slots.get(key, PROMPT) is not PROMPT:
            self.dropped += 1
        self._slots[key] = item
        self._ready.set()

    def prompt(self, key: Hashable) -> None:
        """Ask for ``key``'s newest to be sent, with no item of its own (nothing is dropped)."""
        self._slots.setdefault(key, PROMPT)
        self._ready.set()

    async def take(self) -> dict[Hashable, Any]:
        """Wait until something is waiting; return every slot's item and empty them."""
        await self._ready.wait()
        self._ready.clear()
        items, self._slots = self._slots, {}
        return items

    def __len__(self) -> int:
        return len(self._slots)
