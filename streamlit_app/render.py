"""Pure formatting helpers for the pages: no Streamlit, no I/O, so they are unit-tested alone."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import TypeVar

from streamlit_app.models import HubConnection, LinkState

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


def jpeg_img_html(jpeg: bytes, alt: str, max_height: str = "60vh") -> str:
    """An ``<img>`` carrying the JPEG inline as a data URI, scaled to its container's width.

    Why not ``st.image``: it serves each image from a media file that Streamlit deletes once a
    later run replaces it; at a 0.1 s refresh a busy browser often asks for a file that is
    already gone and shows a broken image. Inline, the picture arrives with the page update
    that shows it (about 4/3 of the JPEG size on the websocket).
    """
    data = base64.b64encode(jpeg).decode("ascii")
    return (f'<img src="data:image/jpeg;base64,{data}" alt="{html.escape(alt, quote=True)}" '
            f'style="width:100%;max-height:{max_height};object-fit:contain;display:block;border-radius:0.25rem">')


def format_offset(offset_ms: float | None, uncertainty_ms: float | None) -> str:
    """A camera's clock offset to the hub, ``"+350.2 ms ± 0.4 ms"``; ``"not synchronised"`` when
    the camera did not report one (its capture times are then on its own clock)."""
    if offset_ms is None:
        return "not synchronised"
    text = ("+" if offset_ms >= 0 else "") + format_ms(offset_ms)
    return f"{text} ± {format_ms(uncertainty_ms)}" if uncertainty_ms is not None else f"{text} ± ?"


DEFAULT_FPS = 30.0


def frame_period_ms(fps: Sequence[float], default_fps: float = DEFAULT_FPS) -> float:
    """The frame period of the fastest camera, ms (``default_fps`` when none reports a rate).

    The fastest camera sets the bound: its frames are closest together, so it is the first
    whose nearest frame changes as the spread grows.
    """
    rates = [f for f in fps if f > 0]
    return 1000.0 / (max(rates) if rates else default_fps)


# Sync-quality thresholds, as fractions of the frame period P (see ``sync_quality``).
GOOD_FRACTION = 0.25
FAIR_FRACTION = 0.5


def sync_quality(spread_ms: float, frame_period_ms: float,
                 max_uncertainty_ms: float | None) -> tuple[str, str, str]:
    """How far a synchronised set can be trusted to show one moment: ``(label, colour, why)``,
    label ``"good"``/``"fair"``/``"poor"``, colour a Streamlit colour name.

    Why these thresholds: cameras sample every P ms (``frame_period_ms``), so two cameras' nearest
    frames are at most P/2 apart. Half a frame period is therefore the pairing bound (16.7 ms at
    30 fps): a set spread up to P/2 is the same moment as well as the frame rates allow, beyond it
    another frame is closer to the moment and the set mixes two moments. The measured spread is
    on the hub's clock, so each camera's offset error adds to it; two cameras erring in opposite
    directions add twice the largest uncertainty (``2u``). So:

    - good: spread <= P/4 and 2u <= P/4: even in the worst case (spread + 2u <= P/2) the frames
      are within the pairing bound;
    - fair: spread <= P/2 and 2u <= P/2: the measured spread is within the pairing bound, but the
      clock error could push the true one past it;
    - poor: spread > P/2, 2u > P/2, or an offset unknown (u is None: a camera's capture time is
      on its own clock, so the spread says nothing).

    Bounds are inclusive.
    """
    if frame_period_ms <= 0:
        raise ValueError("frame_period_ms must be > 0")
    good, fair = GOOD_FRACTION * frame_period_ms, FAIR_FRACTION * frame_period_ms
    half = f"half a frame ({format_ms(fair)})"
    if max_uncertainty_ms is None:
        return "poor", "red", "A camera's clock offset is unknown: its capture times are on its own clock."
    spread, error = format_ms(spread_ms), format_ms(max_uncertainty_ms)
    if spread_ms > fair:
        return "poor", "red", f"Spread {spread} is over {half}: the frames show different moments."
    if 2 * max_uncertainty_ms > fair:
        return "poor", "red", f"Clock uncertainty ±{error} per camera could hide a spread over {half}."
    if spread_ms <= good and 2 * max_uncertainty_ms <= good:
        return "good", "green", (f"Spread {spread} and clock uncertainty ±{error} stay within {half} "
                                 "even combined: the frames show the same moment.")
    return "fair", "orange", (f"Spread {spread} is within {half}, but with clock uncertainty ±{error} "
                              "the true spread may exceed it.")


def quality_badge(label: str, colour: str) -> str:
    """Markdown badge of a sync quality, e.g. ``:green-badge[good]``."""
    return f":{colour}-badge[{label}]"
