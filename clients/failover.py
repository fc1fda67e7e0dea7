"""Several hubs for one camera: a transport that moves to the next hub when its hub is unreachable.

Hubs that share their state in Redis serve any camera, so a camera client given several hub URLs
sends each frame to its current hub and, when that hub is unreachable (``HubUnreachable``), tries
the next ones in turn with the same frame, at once. Only when none answers does the error reach
the camera (which backs off and retries). A hub that refuses a frame (``HubRejected``) is not
failed over: any hub would refuse it too. The camera stays on the hub that answered until it fails
in turn; ``generation`` counts the moves, so the camera synchronises its clock with the new hub
before its next frame (hubs' clocks are assumed to agree to NTP precision, the offset is measured
anew all the same).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from clients.capture import CapturedFrame
from clients.clock import TimeSample
from clients.transport import Stamp, Transport
from formsync.hub_client import HubUnreachable
from formsync.wire.frames import QualityTarget

log = logging.getLogger("formsync.camera")


class FailoverTransport:
    """Args:
        transports: one transport per hub, in order of preference.
        urls: their hub URLs (for logs and heartbeats), same order.
    """

    def __init__(self, transports: Sequence[Transport], urls: Sequence[str]) -> None:
        if not transports or len(transports) != len(urls):
            raise ValueError("one transport per hub URL, at least one")
        self.transports = list(transports)
        self.urls = list(urls)
        self.index = 0
        self.generation = 0

    @property
    def hub_url(self) -> str:
        """The hub frames go to now."""
        return self.urls[self.index]

    async def _each(self, call: Callable[[Transport], object]):
        """``call`` on the current hub, then on the next ones while they are unreachable; raises
        the last ``HubUnreachable`` when none answers (the camera stays on the hub it started on)."""
        start = self.index
        for step in range(len(self.transports)):
            index = (start + step) % len(self.transports)
            try:
                result = await call(self.transports[index])
            except HubUnreachable as exc:
                if step == len(self.transports) - 1:
                    raise
                log.warning("hub %s unreachable (%s): trying %s", self.urls[index], exc,
                            self.urls[(index + 1) % len(self.urls)])
                continue
            if index != self.index:
                self.index = index
                self.generation += 1
                log.warning("now streaming to hub %s", self.urls[index])
            return result
        raise AssertionError("unreachable")

    async def send(self, frame: CapturedFrame, stamp: Stamp) -> QualityTarget | None:
        return await self._each(lambda t: t.send(frame, stamp))

    async def time_sample(self, clock_ns: Callable[[], int]) -> TimeSample:
        """An exchange with the current hub, or the next that answers (``generation`` then
        changes: the samples of one offset estimate must all come from one hub)."""
        return await self._each(lambda t: t.time_sample(clock_ns))

    async def close(self) -> None:
        for transport in self.transports:
            await transport.close()
