"""The live view element: a Streamlit component (static HTML and JS in ``frontend/``, no build
step) that opens the hub's live socket from the browser and paints frames on canvases as they
arrive, outside Streamlit's rerun loop (docs/api.md#live-view).

Every canvas carries ``data-camera-id`` and ``data-capture-ns`` (the painted frame's capture time,
ns, hub clock), updated when a frame is painted; the page's script also logs each paint in
``window.formsyncPaints`` (``bench/display.py`` reads it). Overlays (skeleton, gaze arrow, rep
phase, faults) are drawn in the browser from the results the same socket brings, matched to the
painted frame by capture time.

The browser gets a display token (``POST /api/v1/live/tokens``) minted for its session with the
dashboard's viewer token, as a component argument: never in a URL or the page's HTML. When the hub
refuses it (expired, or a restarted hub) the script asks for another, which reruns the page.
Only pages import this module.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

from formsync.hub_client import HubRejected, HubUnreachable
from streamlit_app.coach.view import BODY_CONNECTIONS, LEFT, MIN_VISIBILITY
from streamlit_app.gaze.view import ARROW_FACE_WIDTHS
from streamlit_app.resources import hub_call

_component = components.declare_component("formsync_live_view", path=str(Path(__file__).parent / "frontend"))

OVERLAY_TOLERANCE_MS = 250.0
"""Largest capture-time gap between a painted frame and the result whose pose is drawn on it, ms:
results trail the display by the analysis latency (~100 ms), and a pose from further off would sit
visibly beside the body."""

_TOKEN_KEY = "live_display_token"


def live_ws_url(hub_url: str) -> str:
    """The live socket's URL for a hub base URL as the browser reaches it."""
    return hub_url.rstrip("/").replace("http", "ws", 1) + "/api/v1/live/stream"


def session_token(hub_url: str, renew: bool = False) -> str | None:
    """This browser session's display token, minted again when half its lifetime is gone or the
    page's script asked (``renew``); None while the hub cannot mint one."""
    held = st.session_state.get(_TOKEN_KEY)
    now = time.time_ns()
    if held is not None and not renew and now < held["renew_after_ns"]:
        return held["token"]
    try:
        minted = hub_call(hub_url, lambda hub: hub.display_token(), timeout_s=2.0)
    except (HubUnreachable, HubRejected):
        return held["token"] if held is not None else None
    st.session_state[_TOKEN_KEY] = {"token": minted.token,
                                    "renew_after_ns": now + int(minted.ttl_s * 1e9 / 2)}
    return minted.token


def live_view(hub_url: str, browser_hub_url: str, cameras: Sequence[str], *, key: str, sync: bool = False,
              overlay: bool = False, columns: int = 3, max_height: int | None = None) -> None:
    """Show ``cameras``' live frames (or, with ``sync``, the synchronised sets of the online
    cameras) in one element. ``hub_url``: the hub as this server reaches it (to mint the token);
    ``browser_hub_url``: as the browser reaches it. ``max_height``: px per frame."""
    asked = st.session_state.get(f"{key}__asked")
    request = (st.session_state.get(key) or {}).get("token_request")
    renew = request is not None and request != asked
    if renew:
        st.session_state[f"{key}__asked"] = request
    token = session_token(hub_url, renew)
    _component(
        ws_url=live_ws_url(browser_hub_url), token=token, cameras=list(cameras), sync=sync, overlay=overlay,
        columns=columns, max_height=max_height, connections=[list(c) for c in BODY_CONNECTIONS],
        left=sorted(LEFT), min_visibility=MIN_VISIBILITY, arrow_face_widths=ARROW_FACE_WIDTHS,
        overlay_tolerance_ms=OVERLAY_TOLERANCE_MS, key=key, default=None)
