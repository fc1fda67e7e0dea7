"""Waking a thread's own asyncio loop from another thread (to stop it)."""

from __future__ import annotations

import asyncio


def wake_loop(loop: asyncio.AbstractEventLoop | None, wake: asyncio.Event | None) -> None:
    """Set ``wake`` on ``loop`` from any thread; nothing if the loop has not started or is closed.

    asyncio objects are not thread-safe, so the event is set by the loop itself
    (``call_soon_threadsafe``), which also interrupts a loop sleeping in ``select``.
    """
    if loop is None or wake is None:
        return
    try:
        loop.call_soon_threadsafe(wake.set)
    except RuntimeError:  # loop already closed
        pass
