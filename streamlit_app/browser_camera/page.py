"""Browser camera page: this browser's camera becomes one more FormSync camera, ``browser-<name>``,
stamped on arrival and uploaded like the others, with the hub's skeleton drawn on the preview."""


import secrets

import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from streamlit_app.browser_camera.sender import BrowserCamera, BrowserCameraStatus, camera_id_for
from streamlit_app.poller import HubPoller
from streamlit_app.render import format_ms, format_offset
from streamlit_app.resources import get_poller, page_settings

FPS_CHOICES = [5, 10, 15, 30]
# No STUN/TURN server is reachable from where FormSync runs: host candidates only, which is what a
# browser on the hub's LAN (or this machine) needs.
RTC_CONFIGURATION = {"iceServers": []}
MEDIA_CONSTRAINTS = {"video": True, "audio": False}  # the browser picks the camera's size (usually 640 x 480)
# The preview keeps the controls and status below it in view, whatever the camera's aspect ratio
# (pixels: the component's iframe sizes itself to its content, so vh would shrink it to nothing).
VIDEO_ATTRS = {"autoPlay": True, "controls": False, "muted": True,
               "style": {"width": "100%", "maxHeight": "540px", "objectFit": "contain"}}


def session_camera(camera_id: str, poller: HubPoller, fps: int) -> BrowserCamera:
    """This session's camera, rebuilt (and the old one stopped) when its id, hub or fps changes."""
    key = (camera_id, poller.hub_url, fps)
    held = st.session_state.get("browser_camera")
    if held is not None and held[0] == key:
        return held[1]
    if held is not None:
        held[1].stop()

    def latest_analysis():
        # Called on the video thread: the poller's Latest read is a lock and a tuple, no I/O.
        _, analysed = poller.analysis(camera_id).read()
        return analysed.analysis if analysed is not None else None

    camera = BrowserCamera(camera_id, poller.hub_url, latest_analysis, fps=fps)
    st.session_state["browser_camera"] = (key, camera)
    return camera


def render_status(camera: BrowserCamera, poller: HubPoller, playing: bool) -> None:
    """The sender's state as of this run (Start, Stop and setting changes rerun the page); while
    the stream plays, the live figures are on the preview (see ``BrowserCamera``'s ``hud``)."""
    s: BrowserCameraStatus = camera.status()
    if playing:
        st.caption(f"**{s.camera_id}** · streaming from this browser: fps sent and drops are on the "
                   "preview.",
                   help="Frames are stamped when they reach this server, on the hub's clock; a frame that "
                        "arrives while the previous one still waits for the hub replaces it (a drop).")
    else:
        st.caption(f"**{s.camera_id}** · {s.state} · {s.sent} of {s.received} frames sent, {s.dropped} "
                   f"dropped ({s.thinned} over the fps cap, {s.rejected} refused by the hub) · clock offset "
                   f"{format_offset(s.clock_offset_ms, s.clock_uncertainty_ms)}")
    if s.error:
        st.error(f"The sender stopped: {s.error}")
    _, analysed = poller.analysis(camera.camera_id).read()
    if analysed is not None:
        a = analysed.analysis
        pose = "pose found" if a.pose_found else "no person found"
        st.caption(f"Last analysis: seq {a.seq}, {pose}, latency {format_ms(a.latency_ms)}, "
                   f"reps {a.rep.count}.")


def render_browser_camera_page() -> None:
    st.title("Browser camera")
    settings = page_settings()
    st.caption("Allow the camera and press **Start**: this browser streams to the hub as one more camera, "
               "timestamped on arrival on the hub's clock, with the analysis's skeleton and the fps sent and "
               "drops drawn on the preview. Stop, or close the tab, and the hub marks it stale.")
    name_col, fps_col = st.columns([3, 1])
    # A random default per session, so two tabs never stream under one id by accident.
    st.session_state.setdefault("browser_camera_name", f"cam-{secrets.token_hex(2)}")
    name = name_col.text_input("Camera name", key="browser_camera_name", max_chars=56,
                               help="Sent as browser-<name>: letters, digits, '_' and '-'.")
    fps = fps_col.selectbox("Send at most (fps)", FPS_CHOICES, index=FPS_CHOICES.index(15))
    try:
        camera_id = camera_id_for(name)
    except ValueError as exc:
        st.error(str(exc))
        st.stop()
    poller = get_poller(settings.hub_url)
    camera = session_camera(camera_id, poller, fps)
    ctx = webrtc_streamer(
        key="browser-camera", mode=WebRtcMode.SENDRECV, rtc_configuration=RTC_CONFIGURATION,
        media_stream_constraints=MEDIA_CONSTRAINTS, video_html_attrs=VIDEO_ATTRS,
        video_frame_callback=camera.video_frame_callback,
        on_video_ended=camera.on_ended, async_processing=True,
    )
    if ctx.state.playing:
        camera.start()
    else:
        camera.stop()
    # Static, no run_every fragment: see BrowserCamera's ``hud`` for why the live figures are on
    # the preview instead.
    render_status(camera, poller, ctx.state.playing)
