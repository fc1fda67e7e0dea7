"""The active-alerts banner shown above every page (called once by ``streamlit_app/app.py``)."""

from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from streamlit_app.fragments import live_fragment
from streamlit_app.monitor.poller import MonitorPoller
from streamlit_app.monitor.render import banner_lines
from streamlit_app.monitor.resources import get_monitor_poller
from streamlit_app.settings import DashboardSettings


def show_banner(poller: MonitorPoller) -> None:
    """Critical alerts on a red line, warnings on an orange one; nothing while none is active or
    the hub cannot be asked (each page says so itself).

    Coloured markdown rather than ``st.error``/``st.warning`` boxes: those belong to the page
    below (e.g. "hub unreachable"), and the banner must not be mistaken for, or push aside, them.
    """
    snap = poller.snapshot()
    if not snap.connection.connected:
        return
    critical, warning = banner_lines(snap.alerts)
    if critical:
        st.markdown(f":red-background[:material/error: {_escape(critical)}]")
    if warning:
        st.markdown(f":orange-background[:material/warning: {_escape(warning)}]")


def _escape(text: str) -> str:
    # A bracket in a host name would end the coloured span early.
    return text.replace("[", r"\[").replace("]", r"\]")


def render_alert_banner(live: bool = True) -> None:
    """Start (once per process) the monitor poller and show its active alerts, refreshed every
    ``monitor_refresh_s`` as a fragment, so pages' own live areas are not rerun by it.

    ``live=False`` shows them once per page run instead: for pages whose runs end early with
    ``st.rerun()`` (streamlit-webrtc's signalling), where Streamlit 1.60 lets a ``run_every``
    fragment finishing mid-run clear and remount the page's elements, which ends a WebRTC stream.
    """
    try:
        settings = DashboardSettings()
    except ValidationError:
        return  # the page reports invalid settings itself
    poller = get_monitor_poller(settings.hub_url)
    if live:
        live_fragment(show_banner, settings.monitor_refresh_s, poller)
    else:
        # One container whatever the number of lines, as the fragment's: the page's elements keep
        # their positions (a moved custom component is remounted).
        with st.container():
            show_banner(poller)
