"""Gaze page: per camera, where the person looks over time (gaze and head yaw/pitch against the
on-target band, blinks), the attention score, the frame with its gaze arrow, and the calibration
control (look at the screen's centre for 2 s)."""



import streamlit as st

from formsync.hub_client import HubRejected, HubUnreachable
from streamlit_app.fragments import live_fragment
from streamlit_app.gaze.view import (
    as_dict,
    calibration_text,
    format_attention,
    gaze_caption,
    gaze_chart,
    gaze_trend_frame,
)
from streamlit_app.live_view import live_view
from streamlit_app.models import LinkState
from streamlit_app.poller import HubPoller
from streamlit_app.render import connection_message
from streamlit_app.resources import get_poller, hub_call, page_settings

# A 30 s chart and a re-encoded frame need not redraw at the live pages' 10 Hz.
MIN_REFRESH_S = 0.5


def render_calibration_control(hub_url: str, camera_id: str) -> None:
    with st.container(border=True):
        st.markdown("**Calibration** · the person looks at the centre of the screen; press *Calibrate*.")
        seconds_col, start_col, reset_col = st.columns([2, 1, 1], vertical_alignment="bottom")
        seconds = seconds_col.number_input("Seconds", min_value=0.5, max_value=10.0, value=2.0, step=0.5,
                                           key=f"gaze_cal_s_{camera_id}")
        try:
            if start_col.button("Calibrate", key=f"gaze_cal_{camera_id}", type="primary"):
                out = hub_call(hub_url, lambda hub: hub.calibrate_gaze(camera_id, float(seconds)))
                if out.workers:
                    st.toast(f"Calibrating {camera_id}: look at the screen's centre for {seconds:g} s.")
                else:
                    st.warning("No analysis worker is listening for calibration requests; start "
                               "`python -m analysis.worker` (with gaze on).")
            if reset_col.button("Reset target", key=f"gaze_reset_{camera_id}"):
                hub_call(hub_url, lambda hub: hub.reset_gaze(camera_id))
                st.toast(f"{camera_id}: target back to straight into the camera.")
        except (HubUnreachable, HubRejected) as exc:
            st.error(f"The hub did not take the request: {exc}")


def render_gaze(poller: HubPoller, camera_id: str) -> None:
    conn = poller.connection()
    message = connection_message(conn)
    if message:
        (st.error if conn.state is LinkState.UNREACHABLE else st.info)(message, icon=":material/link_off:")
    _, analysed = poller.analysis(camera_id).read()
    gaze = as_dict(analysed.analysis.gaze) if analysed is not None else None
    if gaze is None:
        st.info(f"No gaze from {camera_id} yet: gaze results come from an analysis worker run without "
                "`--no-gaze`, once the camera sees a face.")
        return
    level, text = calibration_text(gaze)
    if level != "none":
        getattr(st, level)(text)
    elif text:
        st.caption(text)
    head = gaze.get("head") or {}
    a, b, c, d = st.columns(4)
    a.metric("Attention", format_attention(gaze), border=True,
             help="Share of the last 10 s the gaze was within the target cone.")
    b.metric("On target", "yes" if gaze["on_target"] else "no", border=True)
    c.metric("Blinks", gaze.get("blinks", 0), border=True,
             help="Eyes closed for at most 0.5 s, counted so far.")
    d.metric("Head pitch", "–" if not head else f"{head['pitch']:+.0f}°", border=True,
             help="< 0: looking down (changes the trunk and neck position in a squat).")
    picture, chart = st.columns([2, 3])
    with picture:
        # The camera's live frames with the gaze arrow, drawn in the browser.
        settings = page_settings()
        live_view(settings.hub_url, settings.browser_hub_url, [camera_id], key=f"gaze_{camera_id}", overlay=True,
                  columns=1)
        st.caption(gaze_caption(gaze))
    with chart:
        df = gaze_trend_frame(poller.trend(camera_id))
        if len(df) < 2:
            st.caption("The chart starts after a few results.")
        else:
            st.altair_chart(gaze_chart(df, gaze.get("target")), width="stretch")


def render_gaze_page() -> None:
    st.title("Gaze")
    settings = page_settings()
    poller = get_poller(settings.hub_url)
    cameras = [c.camera_id for c in poller.cameras()]
    if not cameras:
        st.info("No camera has sent a frame yet." if poller.connection().connected
                else connection_message(poller.connection()) or "Connecting to the hub…")
        return
    camera_id = st.selectbox("Camera", cameras, key="gaze_camera")
    render_calibration_control(settings.hub_url, camera_id)
    live_fragment(render_gaze, max(settings.refresh_s, MIN_REFRESH_S), poller, camera_id)
