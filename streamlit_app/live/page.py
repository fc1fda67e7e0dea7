"""Live page: the synchronised set (side by side, with its spread and sync quality), then every
camera's live frames with its fps and clock offset. Frames come over the hub's live socket into
the browser (streamlit_app/live_view); this script reruns only for the figures."""

import streamlit as st

from formsync.wire.frames import CameraOut
from streamlit_app.fragments import live_fragment
from streamlit_app.live_view import live_view
from streamlit_app.models import LinkState
from streamlit_app.poller import HubPoller
from streamlit_app.render import (
    connection_message,
    format_fps,
    format_ms,
    format_offset,
    frame_period_ms,
    quality_badge,
    rows,
    status_badge,
    sync_quality,
)
from streamlit_app.resources import get_poller, page_settings
from streamlit_app.settings import DashboardSettings


def render_sync(poller: HubPoller, cameras: tuple[CameraOut, ...], hub_connected: bool,
                settings: DashboardSettings) -> None:
    st.subheader("Synchronised set")
    if not hub_connected:
        st.caption("Unknown while the hub is unreachable.")
        return
    sync = poller.sync_set()
    online = sum(c.online for c in cameras)
    if online < 2:
        st.caption(f"Needs frames from at least two online cameras, close enough in time ({online} online).")
        return
    if sync is not None:
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
    # One message per set from the hub: the cameras shown side by side are one moment.
    live_view(settings.hub_url, settings.browser_hub_url, [c.camera_id for c in cameras if c.online],
              key="live_sync", sync=True, columns=max(2, online))


def render_camera_figures(cam: CameraOut, hub_connected: bool) -> None:
    st.markdown(f"**{cam.camera_id}** {status_badge(cam.online, hub_connected)}")
    st.caption(f"{format_fps(cam.fps)} · seq {cam.seq} · {cam.width}×{cam.height}"
               f" · clock offset {format_offset(cam.clock_offset_ms, cam.clock_uncertainty_ms)}",
               help="Hub minus camera clock as the camera estimated it (NTP-style), ± a bound on "
                    "that estimate's error; capture times are shifted onto the hub's clock by it.")


def render_live(poller: HubPoller, settings: DashboardSettings) -> None:
    conn = poller.connection()
    message = connection_message(conn)
    if message:
        (st.error if conn.state is LinkState.UNREACHABLE else st.info)(message, icon=":material/link_off:")
    cameras = poller.cameras()
    if not cameras:
        if conn.connected:
            st.info("The hub is up but no camera has sent a frame yet.")
        return
    render_sync(poller, cameras, conn.connected, settings)
    st.subheader("Cameras")
    columns = min(settings.grid_columns, len(cameras))
    for row in rows(cameras, columns):
        for col, cam in zip(st.columns(columns), row):
            with col:
                render_camera_figures(cam, conn.connected)
    live_view(settings.hub_url, settings.browser_hub_url, [c.camera_id for c in cameras],
              key="live_cameras", columns=columns)


def render_live_page() -> None:
    st.title("Live")
    settings = page_settings()
    # One poller per server process (cached), whatever the number of sessions and reruns.
    poller = get_poller(settings.hub_url)
    live_fragment(render_live, settings.status_refresh_s, poller, settings)
