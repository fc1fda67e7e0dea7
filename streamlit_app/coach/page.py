"""Coach page: each camera with its skeleton beside the reference at the same phase, live score,
reps, per-rep scores, faults with a cue, score and angle trends, the cameras' fused verdict, and
the history of saved sets. The reference can be chosen among the hub's, or built from an uploaded
video by a worker (the hub queues the job; its progress shows here). Reference pictures and
angles come from the hub, never from this machine's disk."""


import re
import time
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from analysis.fusion import fuse
from analysis.paths import DEFAULT_REFERENCE_NAME
from formsync.hub_client import HubRejected, HubUnreachable
from formsync.wire.base import read
from formsync.wire.frames import CameraOut
from formsync.wire.references import REFERENCE_NAME_PATTERN
from formsync.wire.sets import SetFault
from streamlit_app.charts import line_chart
from streamlit_app.coach.view import (
    active_faults,
    fault_line,
    history_rows,
    job_status,
    reference_label,
    trend_frame,
)
from streamlit_app.fragments import live_fragment
from streamlit_app.gaze.view import format_attention
from streamlit_app.live_view import live_view
from streamlit_app.models import LinkState
from streamlit_app.poller import HubPoller
from streamlit_app.reliability_view import stale_analysis_message, unsaved_sets_message
from streamlit_app.render import connection_message, format_ms, jpeg_img_html, rows
from streamlit_app.resources import get_poller, hub_call, page_settings
from streamlit_app.settings import DashboardSettings

NAME_PATTERN = re.compile(REFERENCE_NAME_PATTERN)
IMAGE_HEIGHT = "32vh"  # user and reference side by side, with the numbers still in view
IMAGE_HEIGHT_PX = 320  # the live view's frame, beside the reference picture
VIDEO_TYPES = ["mp4", "mov", "avi", "mkv", "webm", "m4v"]
UPLOAD_TIMEOUT_S = 300.0
"""A 200 MB video over a slow link to the hub; the hub answers as soon as it has queued the job."""
JOB_KEY = "reference_job"


def render_reference_controls(poller: HubPoller, hub_url: str) -> None:
    current = poller.reference() or DEFAULT_REFERENCE_NAME
    with st.expander(f"Reference (answer sheet): **{current}**", icon=":material/school:"):
        stored = {r.name: r for r in poller.references()}
        names = sorted(stored)
        if names:
            choice = st.selectbox("Score against", names, index=names.index(current) if current in names else 0,
                                  format_func=lambda n: reference_label(stored[n]))
            if st.button("Use this reference", disabled=choice == current):
                try:
                    hub_call(hub_url, lambda hub: hub.choose_reference(choice))
                    st.success(f"Workers now score against {choice!r}.")
                except (HubUnreachable, HubRejected) as exc:
                    st.error(f"The hub did not take the choice: {exc}")
        else:
            st.caption("The hub has no reference yet: a worker uploads the default of each view when it connects.")
        st.divider()
        video = st.file_uploader("Build a reference from a video of a good squat", type=VIDEO_TYPES)
        name = st.text_input("Name", value=Path(video.name).stem[:64] if video else "",
                             help="Letters, digits, '.', '_' and '-'; an existing name is rebuilt.")
        if st.button("Build reference", disabled=video is None):
            request_build(hub_url, video, name.strip())
        job_id = st.session_state.get(JOB_KEY)
        if job_id:
            live_fragment(render_job, 0.5, poller, job_id)


def request_build(hub_url: str, video, name: str) -> None:
    """Send the video to the hub, which queues a build job for a worker; its id is kept for
    ``render_job``."""
    if not NAME_PATTERN.match(name):
        st.error("The name may use letters, digits, '.', '_' and '-' (1-64, not starting with '.').")
        return
    try:
        job = hub_call(hub_url, lambda hub: hub.submit_reference_job(name, bytes(video.getbuffer()), video.name),
                       timeout_s=UPLOAD_TIMEOUT_S)
    except (HubUnreachable, HubRejected) as exc:
        st.error(f"The hub did not take the video: {exc}")
        return
    st.session_state[JOB_KEY] = job.job_id


def render_job(poller: HubPoller, job_id: str) -> None:
    """The build job's progress and outcome, as the hub reports it."""
    status = job_status(poller.reference_job(job_id))
    st.progress(status.fraction, text=status.text)
    if status.outcome == "done":
        st.success(status.detail, icon=":material/check_circle:")
    elif status.outcome == "failed":
        st.error(status.detail, icon=":material/error:")


def render_camera(poller: HubPoller, cam: CameraOut, reference: str, settings: DashboardSettings) -> None:
    version, analysed = poller.analysis(cam.camera_id).read()
    _, live = poller.live_set(cam.camera_id).read()
    with st.container(border=True):
        st.markdown(f"#### {cam.camera_id}")
        if analysed is None:
            st.caption("Waiting for the first analysis result (is `python -m analysis.worker` running?).")
            return
        stale = stale_analysis_message(poller.analysis_stale_since(cam.camera_id), time.time_ns())
        if stale:
            st.warning(stale, icon=":material/hourglass_disabled:")
        a = analysed.analysis
        user_col, ref_col = st.columns(2)
        with user_col:
            # Live frames with the skeleton, drawn in the browser from the hub's socket.
            live_view(settings.hub_url, settings.browser_hub_url, [cam.camera_id], key=f"coach_{cam.camera_id}",
                      overlay=True, columns=1, max_height=IMAGE_HEIGHT_PX)
            st.caption(f"you · seq {a.seq} · {a.view} view" + ("" if a.pose_found else " · no person found"))
        with ref_col:
            # A camera is scored against the reference of its own view, which may not be the chosen one.
            shown = a.reference or reference
            if analysed.reference_jpeg is not None:
                st.html(jpeg_img_html(analysed.reference_jpeg, f"reference {shown} frame {a.reference_seq}",
                                      max_height=IMAGE_HEIGHT))
                st.caption(f"reference {shown} · frame {a.reference_seq}, same phase")
            else:
                st.caption("The reference frame appears here once a pose is scored.")
        # Two rows of metrics: five in a row cut values short ("bo…") in a two-camera layout.
        score, reps, phase = st.columns(3)
        attention, latency, _ = st.columns(3)
        score.metric("Score", "–" if a.score is None else f"{a.score:.0f}",
                     help="Similarity of this frame to the reference at the same phase, 0-100; each "
                          "rep's score also weighs its form (per-rep scores below).")
        reps.metric("Reps", a.rep.count)
        phase.metric("Phase", a.rep.phase)
        attention.metric("Attention", format_attention(a.gaze),
                         help="Share of the last 10 s the gaze was on target, – when no face was seen in "
                              "that time (arrow on the face: green on target, orange off); calibrate on "
                              "the Gaze page.")
        latency.metric("Latency", format_ms(a.latency_ms),
                       help=f"Capture to result at the hub; {a.skipped_frames} frames skipped to stay current.")
        if a.rep.rep_scores:
            st.caption("Per-rep scores: " + " · ".join(f"**{s:.0f}**" for s in a.rep.rep_scores))
        faults = active_faults(live)
        for f in faults:
            st.markdown(fault_line(f, rep_start_ns=live.reps_detail[-1].start_time_ns))
        if live is not None and live.status == "open" and live.reps_detail and not faults:
            st.markdown(":material/check_circle: No fault on the last rep.")


def render_trend(poller: HubPoller, cam: CameraOut, reference: str) -> None:
    trend = poller.trend(cam.camera_id)
    last = next((r for r in reversed(trend) if r.reference), None)
    name, version = (last.reference, last.reference_hash) if last is not None else (reference, None)
    chart = trend_frame(trend, poller.reference_angles(name, version) or {})
    if len(chart) < 2:
        return
    chart = chart.set_index("t")
    st.markdown(f"**{cam.camera_id}**: knee and hip against the reference, and the score")
    line_chart(chart[["knee", "ref knee", "hip", "ref hip"]], height=180, x_title="seconds",
               y_title="degrees")
    line_chart(chart[["score"]], height=120, x_title="seconds", y_title="score")


def render_trends_and_fusion(poller: HubPoller, reference: str, columns: int) -> None:
    cameras = live_cameras(poller)
    if not cameras:
        return
    in_grid(cameras, columns, lambda cam: render_trend(poller, cam, reference))
    render_fusion(poller, cameras)


def live_cameras(poller: HubPoller) -> tuple[CameraOut, ...]:
    """The online cameras, or every known camera when none is online."""
    return tuple(c for c in poller.cameras() if c.online) or poller.cameras()


def in_grid(cameras: tuple[CameraOut, ...], columns: int, render: Callable[[CameraOut], None]) -> None:
    """``render`` each camera in a column, at most ``columns`` to a row."""
    columns = min(columns, len(cameras))
    for row in rows(cameras, columns):
        for col, cam in zip(st.columns(columns), row):
            with col:
                render(cam)


def render_fusion(poller: HubPoller, cameras: tuple[CameraOut, ...]) -> None:
    sets = {}
    for cam in cameras:
        _, live = poller.live_set(cam.camera_id).read()
        if live is not None and live.status == "open" and live.reps_detail:
            sets[cam.camera_id] = [r.model_dump() for r in live.reps_detail]
    if len(sets) < 2:
        return
    st.subheader("All cameras together")
    st.caption("Reps seen by every camera at the same moment, matched on their capture times by the hub's "
               "synchroniser (the policy of the synchronised set on the Live page); each check is taken "
               "from the camera whose view suits it.")
    for rep in fuse(sets)[-3:]:
        cams = ", ".join(f"{c} ({r.get('view')})" for c, r in rep.reps.items())
        st.markdown(f"**Rep at {rep.start_ns / 1e9 % 3600:.1f} s** · {cams}")
        for cam, f in rep.faults:
            st.markdown(fault_line(read(SetFault, f), cam, rep.reps[cam].get("start_time_ns")))
        if not rep.faults:
            st.markdown(":material/check_circle: No fault from any view.")
        if rep.unavailable:
            st.caption("Not checked (no camera with the right view): " + ", ".join(rep.unavailable))


def render_live_coach(poller: HubPoller, reference: str, settings: DashboardSettings) -> None:
    conn = poller.connection()
    message = connection_message(conn)
    if message:
        (st.error if conn.state is LinkState.UNREACHABLE else st.info)(message, icon=":material/link_off:")
    cameras = live_cameras(poller)
    if not cameras:
        if conn.connected:
            st.info("The hub is up but no camera has sent a frame yet.")
        return
    in_grid(cameras, settings.grid_columns, lambda cam: render_camera(poller, cam, reference, settings))


def render_history(poller: HubPoller) -> None:
    st.subheader("History")
    unsaved = unsaved_sets_message(poller.set_saving())
    if unsaved:
        st.warning(unsaved, icon=":material/database:")
    sets = poller.sets()
    if not sets:
        st.caption("Saved sets appear here: a set ends after 10 s without a rep, when its camera stops, "
                   "or when a replayed clip starts over.")
        return
    st.dataframe(history_rows(sets), hide_index=True, use_container_width=True)


def render_coach_page() -> None:
    st.title("Coach")
    settings = page_settings()
    poller = get_poller(settings.hub_url)
    render_reference_controls(poller, settings.hub_url)
    reference = poller.reference() or DEFAULT_REFERENCE_NAME
    live_fragment(render_live_coach, settings.refresh_s, poller, reference, settings)
    # A trend read at a glance needs no 10 Hz, and at the live rate four charts kept Streamlit's
    # script thread busy most of the time (py-spy), so its "running" status never cleared.
    live_fragment(render_trends_and_fusion, settings.chart_refresh_s, poller, reference, settings.grid_columns)
    live_fragment(render_history, 2.0, poller)
