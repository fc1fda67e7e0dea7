"""What the dashboard keeps beside the hub's answers: an analysis result with its own frame, a
synchronised set with its images, the hub's unsaved sets, and the poller's link to the hub.

The hub's answers themselves are ``formsync.wire`` models as ``formsync.hub_client`` reads them
(frozen; unknown fields ignored). Everything here is immutable too, so the poller thread hands
snapshots to page threads by reference.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from formsync.wire.analysis import AnalysisOut
from formsync.wire.frames import FrameImage
from formsync.wire.sync import SyncSetOut


@dataclass(frozen=True, slots=True)
class AnalysedFrame:
    """An analysis result with ``reference_jpeg``, the hub's picture of the reference frame matched
    to it (``reference_seq`` of that very version of the reference), None when the hub has none.
    The camera's own frame is not here: the page's live view paints it in the browser, with the
    skeleton drawn from the results its socket brings (streamlit_app/live_view)."""

    analysis: AnalysisOut
    reference_jpeg: bytes | None = None


class SyncedImages(NamedTuple):
    """A synchronised set together with every one of its images, fetched by seq: what the
    page shows as "the same moment from every camera". ``images`` is keyed by camera id and
    read-only."""

    sync_set: SyncSetOut
    images: Mapping[str, FrameImage]


class SetSaving(NamedTuple):
    """Closed sets the hub holds in memory because its database refused them (``GET /api/v1/sets``
    ``unsaved``, ``persist_error``): nothing is lost, they are written on the hub's next try."""

    unsaved: int = 0
    error: str | None = None


class LinkState(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class HubConnection:
    """The poller's link to the hub.

    ``since_ns`` is when it entered ``state`` (ns since the epoch); ``last_error`` describes the
    failure that made it unreachable; ``attempts`` counts failed attempts since it last connected.
    """

    hub_url: str
    state: LinkState
    since_ns: int
    last_error: str | None = None
    attempts: int = 0

    @property
    def connected(self) -> bool:
        return self.state is LinkState.CONNECTED
