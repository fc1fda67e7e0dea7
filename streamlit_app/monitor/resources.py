"""The monitor poller shared by every session of this Streamlit process (``st.cache_resource``).
Only pages and the entry script import this module."""

from __future__ import annotations

import streamlit as st

from streamlit_app.monitor.poller import MonitorPoller
from streamlit_app.settings import DashboardSettings


def _release(poller: MonitorPoller) -> None:
    poller.stop()


@st.cache_resource(show_spinner=False, on_release=_release, validate=MonitorPoller.is_alive)
def get_monitor_poller(hub_url: str) -> MonitorPoller:
    """The one running monitor poller of ``hub_url`` in this process, started on first use; a
    dead one is replaced on the next call; ``get_monitor_poller.clear()`` stops them all."""
    s = DashboardSettings()
    return MonitorPoller(hub_url, period_s=s.monitor_refresh_s, request_timeout_s=s.request_timeout_s,
                         reconnect_max_s=s.reconnect_max_s, token=s.viewer_token).start()
