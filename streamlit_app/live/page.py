"""Live page: the synchronised set (its images side by side, spread and sync quality), then a grid
of every camera's newest frame with its clock offset."""


import time

import streamlit as st

from formsync.wire.frames import CameraOut
from streamlit_app.live.seen import SeenFrames
from streamlit_app.models import LinkState
from streamlit_app.poller import HubPoller
from streamlit_app.render import (
    age_ms,
    clock,
    connection_message,
    format_fps,
    format_ms,
    format_offset,
    frame_period_ms,
    jpeg_img_html,
    quality_badge,
    rows,
    status_badge,
    sync_frame_caption,
    sync_quality,
    synced_set_html,
)
from streamlit_app.resources import get_poller, page_settings


def render_sync(poller: HubPoller, cameras: tuple[CameraOut, ...], hub_connected: bool) -> None:
    st.subheader("Synchronised set")
    if not hub_connected:
        st.caption("Unknown while the hub is unreachable.")
        return
    # Prefer the set whose images all arrived: its pictures are one moment from every camera.
    synced = poller.synced_images()
    sync = synced.sync_set if synced is not None else poller.sync_set()
    if sync is None:
        st.caption(f"Needs frames from at least two online cameras, close enough in time "
                   f"({sum(c.online for c in cameras)} online).")
        return
    fps = {c.camera_id: c.fps for c in cameras}
    period = frame_period_ms([fps.get(f.camera_id, 0.0) for f in sync.frames])
    label, colour, why = sync_quality(sync.spread_ms, period, sync.max_uncertainty_ms)
    spread_col, quality_col = st.columns([1, 3])
    limit = f" The hub accepts up to {format_ms(sync.max_spread_ms)}." if sync.max_spread_ms else ""
    spread_col.metric("Spread", format_ms(sync.spread_ms), border=True,
                      help="Skew between the cameras: newest minus oldest capture time in the set, "
                           f"on the hub's clock.{limit}")
    with quality_col:
        st.markdown(f"**Sync quality** {quality_badge(label, colour)}",
                    help=f"Frame period {format_ms(period)}: good within a quarter frame, fair within "
                         "half a frame (the pairing bound), counting twice the clock uncertainty.")
        st.caption(why)
    first = min(f.capture_time_ns for f in sync.frames)
    if synced is not None:
        st.html(synced_set_html([
            (f.camera_id, synced.images[f.camera_id].jpeg, f"{f.camera_id} seq {f.seq}, synchronised",
             sync_frame_caption(f, first))
            for f in sync.frames
        ]))
        return
    st.caption("Fetching this set's images…")
    for col, f in zip(st.columns(len(sync.frames)), sync.frames):
        col.caption(f"**{f.camera_id}** {sync_frame_caption(f, first)}")


def render_tile(poller: HubPoller, cam: CameraOut, hub_connected: bool, seen: SeenFrames) -> None:
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
        st.caption(f"clock offset {format_offset(cam.clock_offset_ms, cam.clock_uncertainty_ms)}",
                   help="Hub minus camera clock as the camera estimated it (NTP-style), ± a bound on "
                        "that estimate's error; capture times are shifted onto the hub's clock by it.")


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
    render_sync(poller, cameras, conn.connected)
    st.subheader("Cameras")
    # Fewer cameras than grid columns: let them share the width rather than leave gaps.
    columns = min(columns, len(cameras))
    for row in rows(cameras, columns):
        for col, cam in zip(st.columns(columns), row):
            with col:
                render_tile(poller, cam, conn.connected, seen)


def render_live_page() -> None:
    st.title("Live")
    settings = page_settings()
    # One poller per server process (cached), whatever the number of sessions and reruns.
    poller = get_poller(settings.hub_url)
    st.fragment(render_live, run_every=settings.refresh_s)(poller, settings.grid_columns)
