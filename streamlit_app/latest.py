"""A size-1 "latest value" queue shared by one writer and any number of readers."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class Latest(Generic[T]):
    """Holds only the newest item: a put replaces what is there, so a slow reader never sees a
    backlog, only the freshest frame.

    Unlike ``queue.Queue(maxsize=1)``, reading does not consume. One poller per Streamlit process
    feeds every browser session; if a read took the item, the first session to rerun would steal
    the frame from all the others. Instead each read returns ``(version, item)``: the version
    rises by one per put, so a session that remembers the last version it rendered can tell
    whether something new arrived, and how many items it missed in between.

    Thread-safe. ``version`` is 0 (and the item None) until the first put.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._item: T | None = None
        self._version = 0
        self._read_since_put = False
        self.replaced = 0
        """Items overwritten by a newer put."""
        self.replaced_unread = 0
        """Items overwritten before any reader saw them (fetched for nothing)."""

    def put(self, item: T) -> int:
        """Replace the held item with ``item``; returns the new version."""
        with self._cond:
            if self._version:
                self.replaced += 1
                if not self._read_since_put:
                    self.replaced_unread += 1
            self._item = item
            self._version += 1
            self._read_since_put = False
            self._cond.notify_all()
            return self._version

    def read(self) -> tuple[int, T | None]:
        """``(version, item)`` without removing the item; ``(0, None)`` before the first put."""
        with self._cond:
            self._read_since_put = True
            return self._version, self._item

    @property
    def version(self) -> int:
        with self._cond:
            return self._version

    def wait_newer(self, version: int, timeout: float) -> tuple[int, T | None] | None:
        """Block until the version exceeds ``version``; returns ``read()``, or None on timeout (s)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._version > version, timeout):
                return None
            self._read_since_put = True
            return self._version, self._item
