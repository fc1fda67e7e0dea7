"""Browser camera page: this browser's camera becomes one more FormSync camera, ``browser-<name>``,
stamped on arrival and uploaded like the others. WebRTC carries the camera to this server only
(send-only: nothing is encoded back); the preview is the live view of the camera as the hub has it,
with the skeleton drawn in the browser, the same path as the Live and Coach pages."""


import secrets

import streamlit as st
from streamlit_webrtc import WebRtcMode, create_video_sink_track, webrtc_streamer

from streamlit_app.browser_camera.sender import BrowserCamera, BrowserCameraStatus, camera_id_for
from streamlit_app.live_view import live_view
from streamlit_app.poller import HubPoller
from streamlit_app.render import format_ms, format_offset
from streamlit_app.resources import get_poller, page_settings

FPS_CHOICES = [5, 10, 15, 30]
# No STUN/TURN server is reachable from where FormSync runs: host candidates only, which is what a
# browser on the hub's LAN (or this machine) needs.
RTC_CONFIGURATION = {"iceServers": []}
MEDIA_CONSTRAINTS = {"video": True, "audio": False}  # the browser picks the camera's size (usually 640 x 480)
PREVIEW_MAX_HEIGHT = 540  # px: the controls and status below the preview stay in view


def session_camera(camera_id: str, poller: HubPoller, fps: int) -> BrowserCamera:
    """This session's camera, rebuilt (and the old one stopped) when its id, hub or fps changes."""
    key = (camera_id, poller.hub_url, fps)
    held = st.session_state.get("browser_camera")
    if held is not None and held[0] == key:
        return held[1]
    if held is not None:
        held[1].stop()

    camera = BrowserCamera(camera_id, poller.hub_url, fps=fps)
    st.session_state["browser_camera"] = (key, camera)
    return camera


def render_status(camera: BrowserCamera, poller: HubPoller, playing: bool) -> None:
    """The sender's state as of this run (Start, Stop and setting changes rerun the page). Static:
    Streamlit 1.60 breaks a ``run_every`` fragment on a page whose webrtc_streamer reruns it
    (stale-delta errors, the component remounted, the stream torn down); the preview is live."""
    s: BrowserCameraStatus = camera.status()
    if playing:
        st.caption(f"**{s.camera_id}** · streaming from this browser: the preview is the hub's live view of it.",
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
               "timestamped on arrival on the hub's clock; the preview shows it as the hub has it, with the "
               "analysis's skeleton. Stop, or close the tab, and the hub marks it stale.")
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
    sink = create_video_sink_track(camera.video_frame_sink, key="browser-camera-sink", on_ended=camera.on_ended)
    ctx = webrtc_streamer(
        key="browser-camera", mode=WebRtcMode.SENDONLY, rtc_configuration=RTC_CONFIGURATION,
        media_stream_constraints=MEDIA_CONSTRAINTS, sink_video_track=sink,
    )
    if ctx.state.playing:
        camera.start()
        live_view(settings.hub_url, settings.browser_hub_url, [camera_id], key=f"browser_{camera_id}",
                  overlay=True, columns=1, max_height=PREVIEW_MAX_HEIGHT)
    else:
        camera.stop()
    render_status(camera, poller, ctx.state.playing)
