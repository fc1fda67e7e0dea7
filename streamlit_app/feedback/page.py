"""Feedback page: pick a saved set (or a camera's live one), see its summary, stream coaching
grounded in the knowledge base with its sources beside it, and ask follow-up questions."""


import logging

import streamlit as st
from pydantic import ValidationError

from feedback.ratelimit import SlidingWindowLimiter, check_length, rate_limit_message
from feedback.service import FeedbackService
from feedback.settings import FeedbackSettings
from feedback.summary import SetSummary
from formsync.hub_client import HubRejected, HubUnreachable
from formsync.wire.sets import SetOut
from streamlit_app.feedback.resources import get_feedback_service
from streamlit_app.feedback.view import (
    fault_rows,
    rep_rows,
    source_label,
    source_markdown,
    trim_history,
)
from streamlit_app.models import SetSaving
from streamlit_app.reliability_view import unsaved_sets_message
from streamlit_app.resources import hub_call
from streamlit_app.settings import DashboardSettings

log = logging.getLogger("formsync.dashboard.feedback")

SAVED, LIVE = "Saved sets", "Live set"


def _hub_error(url: str, exc: Exception) -> None:
    if isinstance(exc, HubRejected):
        st.error(f"The hub at {url} refused the request: {exc}", icon=":material/error:")
    else:
        st.error(
            f"The hub at {url} is unreachable ({type(exc).__name__}). Is it running?",
            icon=":material/link_off:",
        )


def _valid(hub_set: SetOut) -> SetSummary | None:
    # The feedback's own input model, which offline analysis runs fill too (feedback/summary.py).
    try:
        return SetSummary.model_validate(hub_set.model_dump())
    except ValidationError as exc:
        log.warning("hub sent a set summary this page cannot read: %s", exc.errors()[:1])
        return None


def pick_saved_set(hub_url: str, timeout_s: float) -> SetSummary | None:
    try:
        listed = hub_call(hub_url, lambda hub: hub.sets(limit=50), timeout_s)
    except (HubUnreachable, HubRejected) as exc:
        _hub_error(hub_url, exc)
        return None
    unsaved = unsaved_sets_message(SetSaving(listed.unsaved, listed.persist_error))
    if unsaved:
        st.warning(unsaved, icon=":material/database:")
    sets = [s for s in (_valid(r) for r in listed.sets) if s is not None]
    if not sets:
        st.info(
            "No saved sets yet. A set is saved when you rest for about 10 s after your last rep; "
            "meanwhile choose **Live set** to coach the set in progress.",
            icon=":material/hourglass_empty:",
        )
        return None
    i = st.selectbox(
        "Saved set", range(len(sets)), format_func=lambda i: sets[i].label(), key="feedback_saved"
    )
    return sets[i]


def pick_live_set(hub_url: str, timeout_s: float) -> SetSummary | None:
    try:
        cameras = [c.camera_id for c in hub_call(hub_url, lambda hub: hub.cameras(), timeout_s)]
    except (HubUnreachable, HubRejected) as exc:
        _hub_error(hub_url, exc)
        return None
    if not cameras:
        st.info("No camera has sent a frame yet, so there is no live set.", icon=":material/videocam_off:")
        return None
    camera = st.selectbox("Camera", cameras, key="feedback_camera")
    try:
        live = hub_call(hub_url, lambda hub: hub.live_set(camera), timeout_s)
    except (HubUnreachable, HubRejected) as exc:
        _hub_error(hub_url, exc)
        return None
    if live is None:
        st.info(
            f"Camera **{camera}** has no set yet: do a few reps in front of it.",
            icon=":material/hourglass_empty:",
        )
        return None
    return _valid(live)


def render_summary(summary: SetSummary) -> None:
    cols = st.columns(4)
    cols[0].metric("Reps", summary.reps, border=True)
    cols[1].metric(
        "Mean score",
        "–" if summary.mean_score is None else f"{summary.mean_score:.1f}",
        border=True,
        help="Similarity to the reference squat, 0-100.",
    )
    cols[2].metric("View", summary.view, border=True)
    cols[3].metric("Status", "live" if summary.status == "open" else "saved", border=True)
    if summary.reps_detail:
        st.dataframe(rep_rows(summary), hide_index=True, width="stretch")
    faults = fault_rows(summary)
    if faults:
        st.dataframe(faults, hide_index=True, width="stretch")
    else:
        st.caption("No form fault was flagged on this set.")


def render_sources(container, chunks) -> None:
    with container:
        st.markdown("**Sources**")
        if not chunks:
            st.caption("No knowledge-base passage was retrieved.")
        for c in chunks:
            with st.expander(source_label(c)):
                st.markdown(source_markdown(c))


def stream_answer(service: FeedbackService, request: dict, sources_box, out: dict):
    """The answer's text pieces for ``st.write_stream``; the sources are drawn as soon as they arrive."""
    for part in service.chain().stream(request):
        if "chunks" in part:
            out["sources"] = part["chunks"]
            render_sources(sources_box, part["chunks"])
        if part.get("answer"):
            yield part["answer"]


def _limiter(settings: FeedbackSettings) -> SlidingWindowLimiter:
    limiter = st.session_state.get("feedback_limiter")
    if limiter is None or limiter.max_requests != settings.requests_per_minute:
        limiter = st.session_state["feedback_limiter"] = SlidingWindowLimiter(
            settings.requests_per_minute, 60.0
        )
    return limiter


def _allowed(settings: FeedbackSettings) -> bool:
    wait = _limiter(settings).try_acquire()
    if wait:
        st.warning(rate_limit_message(wait, settings.requests_per_minute), icon=":material/timer:")
    return not wait


def render_coaching(service: FeedbackService, summary: SetSummary, state: dict) -> None:
    st.subheader("Coaching")
    st.caption(f"Written by: {service.provider}")
    answer_col, sources_col = st.columns([3, 2])
    if st.button("Get feedback", type="primary", key="feedback_go") and _allowed(service.settings):
        out: dict = {}
        with answer_col:
            state["answer"] = st.write_stream(
                stream_answer(service, {"summary": summary}, sources_col.container(), out)
            )
        state["sources"] = out.get("sources", [])
        return
    if state.get("answer"):
        answer_col.markdown(state["answer"])
        render_sources(sources_col.container(), state.get("sources", []))


def render_followups(service: FeedbackService, summary: SetSummary, state: dict) -> None:
    s = service.settings
    st.subheader("Follow-up questions")
    st.caption(
        f"Up to {s.max_input_chars} characters; {s.requests_per_minute} requests per minute; "
        f"the last {s.history_turns} turns are kept."
    )
    chat = state.setdefault("chat", [])
    for msg in chat:
        with st.chat_message(msg["role"]):
            st.markdown(msg["content"])
            if msg.get("sources"):
                render_sources(st.expander("Sources of this answer"), msg["sources"])
    question = st.chat_input(
        "Ask about this set, e.g. “how do I fix my depth?”", key="feedback_chat", max_chars=s.max_input_chars
    )
    if not question:
        return
    problem = check_length(question, s.max_input_chars)
    if problem:
        st.error(problem, icon=":material/error:")
        return
    if not _allowed(s):
        return
    with st.chat_message("user"):
        st.markdown(question)
    with st.chat_message("assistant"):
        out: dict = {}
        answer_box = st.container()  # the answer above its sources, though the sources arrive first
        sources = st.expander("Sources of this answer")
        with answer_box:
            answer = st.write_stream(
                stream_answer(
                    service,
                    {
                        "summary": summary,
                        "question": question,
                        "history": trim_history(chat, s.history_turns),
                    },
                    sources,
                    out,
                )
            )
    chat += [
        {"role": "user", "content": question},
        {"role": "assistant", "content": answer, "sources": out.get("sources", [])},
    ]
    state["chat"] = trim_history(chat, s.history_turns)


def render_feedback_page() -> None:
    st.title("Feedback")
    try:
        dashboard = DashboardSettings()
        settings = FeedbackSettings()
    except ValidationError as exc:
        st.error(f"Invalid settings (FORMSYNC_* environment or .env):\n\n{exc}")
        st.stop()
    source = st.radio("Coach", [SAVED, LIVE], horizontal=True, key="feedback_source")
    pick = pick_saved_set if source == SAVED else pick_live_set
    summary = pick(dashboard.hub_url, dashboard.request_timeout_s)
    if summary is None:
        return
    render_summary(summary)
    try:
        service = get_feedback_service(settings)
    except (OSError, ValueError) as exc:
        st.error(f"The knowledge base could not be opened: {exc}", icon=":material/error:")
        return
    # Per session and per set: the coaching and the conversation belong to the set they are about.
    state = st.session_state.setdefault("feedback_by_set", {}).setdefault(summary.set_id, {})
    render_coaching(service, summary, state)
    render_followups(service, summary, state)
