"""Live page: the synchronised set and its spread, then a grid of every camera's newest frame."""

import sys
import time
from pathlib import Path

# `streamlit run streamlit_app/app.py` puts only streamlit_app/ on sys.path, not the repo root.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from streamlit_app.models import CameraStatus, LinkState, SyncSet  # noqa: E402
from streamlit_app.poller import HubPoller  # noqa: E402
from streamlit_app.render import (  # noqa: E402
    age_ms, clock, connection_message, format_fps, format_ms, jpeg_img_html, rows, status_badge,
)
from streamlit_app.resources import get_poller  # noqa: E402
from streamlit_app.seen import SeenFrames  # noqa: E402
from streamlit_app.settings import DashboardSettings  # noqa: E402


def render_sync(sync: SyncSet | None, online: int, hub_connected: bool) -> None:
    st.subheader("Synchronised set")
    if not hub_connected:
        st.caption("Unknown while the hub is unreachable.")
        return
    if sync is None:
        st.caption(f"Needs frames from at least two online cameras ({online} online).")
        return
    first = min(f.capture_time_ns for f in sync.frames)
    cols = st.columns(1 + len(sync.frames))
    cols[0].metric("Spread", format_ms(sync.spread_ms), border=True,
                   help="Skew between the cameras: newest minus oldest capture time in the set.")
    for col, f in zip(cols[1:], sync.frames):
        col.metric(f.camera_id, clock(f.capture_time_ns), border=True,
                   delta=f"+{format_ms((f.capture_time_ns - first) / 1e6)} · seq {f.seq}",
                   delta_color="off", delta_arrow="off")


def render_tile(poller: HubPoller, cam: CameraStatus, hub_connected: bool, seen: SeenFrames) -> None:
    with st.container(border=True):
        st.markdown(f"**{cam.camera_id}** {status_badge(cam.online, hub_connected)}")
        version, frame = poller.frame(cam.camera_id).read()
        if frame is None:
            st.caption("waiting for the first frame…")
            return
        now_s = time.monotonic()
        seen.observe(cam.camera_id, version, now_s)
        st.html(jpeg_img_html(frame.jpeg, f"{cam.camera_id} seq {frame.seq}"))
        st.caption(
            f"{clock(frame.capture_time_ns)} · age {format_ms(age_ms(frame.capture_time_ns, time.time_ns()))}"
            f" · {format_fps(cam.fps)} (shown {format_fps(seen.shown_fps(cam.camera_id, now_s))})"
            f" · seq {frame.seq} · {frame.width}×{frame.height}"
        )


def render_live(poller: HubPoller, columns: int) -> None:
    conn = poller.connection()
    message = connection_message(conn)
    if message:
        (st.error if conn.state is LinkState.UNREACHABLE else st.info)(message, icon=":material/link_off:")
    cameras = poller.cameras()
    if not cameras:
        if conn.connected:
            st.info("The hub is up but no camera has sent a frame yet.")
        return
    # Per session: each browser tab counts the frames it really showed.
    seen = st.session_state.setdefault("live_seen", SeenFrames())
    render_sync(poller.sync_set(), sum(c.online for c in cameras), conn.connected)
    st.subheader("Cameras")
    # Fewer cameras than grid columns: let them share the width rather than leave gaps.
    columns = min(columns, len(cameras))
    for row in rows(cameras, columns):
        for col, cam in zip(st.columns(columns), row):
            with col:
                render_tile(poller, cam, conn.connected, seen)


def render_live_page() -> None:
    st.title("Live")
    try:
        settings = DashboardSettings()
    except ValidationError as exc:
        st.error(f"Invalid dashboard settings (FORMSYNC_* environment or .env):\n\n{exc}")
        st.stop()
    # One poller per server process (cached), whatever the number of sessions and reruns.
    poller = get_poller(settings.hub_url)
    st.fragment(render_live, run_every=settings.refresh_s)(poller, settings.grid_columns)


render_live_page()
