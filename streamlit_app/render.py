"""Pure formatting helpers for the pages: no Streamlit, no I/O, so they are unit-tested alone."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import TypeVar

from .models import HubConnection, LinkState

T = TypeVar("T")

_NS_PER_S = 1_000_000_000
_NS_PER_MS = 1_000_000


def clock(time_ns: int, tz: tzinfo | None = None) -> str:
    """``hh:mm:ss.mmm`` of a time in ns since the epoch, in ``tz`` (default: local time).

    Milliseconds are truncated, not rounded, so 12:00:00.9996 never shows as 12:00:01.000
    while its seconds still read 12:00:00.
    """
    seconds, rest = divmod(time_ns, _NS_PER_S)
    return f"{datetime.fromtimestamp(seconds, tz):%H:%M:%S}.{rest // _NS_PER_MS:03d}"


def age_ms(capture_time_ns: int, now_ns: int) -> float:
    """How old a frame is at ``now_ns``, in ms. Negative when the capturing machine's clock runs
    ahead of this one's (it is shown as is: hiding it would hide a clock-sync problem)."""
    return (now_ns - capture_time_ns) / _NS_PER_MS


def format_ms(ms: float) -> str:
    """``"87 ms"``; one decimal below 10 ms (``"3.4 ms"``), where the tenth still matters."""
    return f"{ms:.1f} ms" if abs(ms) < 10 else f"{ms:,.0f} ms"


def format_fps(fps: float) -> str:
    return f"{fps:.1f} fps"


def status_badge(online: bool, hub_connected: bool) -> str:
    """Markdown badge of a camera: online, stale, or unknown while the hub cannot be asked."""
    if not hub_connected:
        return ":gray-badge[unknown]"
    return ":green-badge[online]" if online else ":orange-badge[stale]"


def rows(items: Sequence[T], columns: int) -> list[list[T]]:
    """``items`` cut into rows of at most ``columns`` (``columns`` >= 1), for a grid."""
    if columns < 1:
        raise ValueError("columns must be >= 1")
    return [list(items[i:i + columns]) for i in range(0, len(items), columns)]


def connection_message(conn: HubConnection, tz: tzinfo | None = None) -> str | None:
    """What a page says about the link to the hub; None when connected (nothing to say)."""
    if conn.state is LinkState.CONNECTED:
        return None
    if conn.state is LinkState.CONNECTING:
        return f"Connecting to the hub at {conn.hub_url}…"
    return (
        f"Hub unreachable at {conn.hub_url} since {clock(conn.since_ns, tz)} "
        f"({conn.attempts} failed attempt{'s' if conn.attempts != 1 else ''}; "
        f"last error: {conn.last_error}). "
        "Retrying; this page recovers by itself when the hub is back."
    )


def jpeg_img_html(jpeg: bytes, alt: str) -> str:
    """An ``<img>`` carrying the JPEG inline as a data URI, scaled to its container's width.

    Why not ``st.image``: it serves each image from a media file that Streamlit deletes once a
    later run replaces it; at a 0.1 s refresh a busy browser often asks for a file that is
    already gone and shows a broken image. Inline, the picture arrives with the page update
    that shows it (about 4/3 of the JPEG size on the websocket).
    """
    data = base64.b64encode(jpeg).decode("ascii")
    return (f'<img src="data:image/jpeg;base64,{data}" alt="{html.escape(alt, quote=True)}" '
            'style="width:100%;max-height:60vh;object-fit:contain;display:block;border-radius:0.25rem">')
