"""Process-wide resources shared by every browser session, cached with ``st.cache_resource``.

Only pages import this module, so the rest of the package stays importable (and testable)
without a Streamlit runtime.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import streamlit as st
from pydantic import ValidationError

from formsync.hub_client import HubClient, call_hub
from streamlit_app.poller import HubPoller
from streamlit_app.settings import DashboardSettings


def page_settings() -> DashboardSettings:
    """The dashboard's settings; on a bad value the page says which and stops (no traceback)."""
    try:
        return DashboardSettings()
    except ValidationError as exc:
        st.error(f"Invalid dashboard settings (FORMSYNC_* environment or .env):\n\n{exc}")
        st.stop()


T = TypeVar("T")


def hub_call(hub_url: str, call: Callable[[HubClient], Awaitable[T]], timeout_s: float = 5.0) -> T:
    """Run one hub call from a page (a button, a pick list) with the dashboard's viewer token:
    ``hub_call(url, lambda hub: hub.choose_reference("mine"))``. Raises ``HubUnreachable`` or
    ``HubRejected`` (formsync.hub_client)."""
    return call_hub(hub_url, call, token=DashboardSettings().viewer_token, timeout_s=timeout_s)


def _release(poller: HubPoller) -> None:
    poller.stop()


@st.cache_resource(show_spinner=False, on_release=_release, validate=HubPoller.is_alive)
def get_poller(hub_url: str) -> HubPoller:
    """The one running poller of ``hub_url`` in this Streamlit process, started on first use.

    Its timings come from ``DashboardSettings``. A poller whose thread died is replaced on the
    next call (``validate``); ``get_poller.clear()`` stops them all.
    """
    s = DashboardSettings()
    return HubPoller(
        hub_url,
        cameras_refresh_s=s.cameras_refresh_s,
        sync_refresh_s=s.sync_refresh_s,
        request_timeout_s=s.request_timeout_s,
        reconnect_max_s=s.reconnect_max_s,
        fetch_interval_s=s.fetch_interval_s,
        token=s.viewer_token,
    ).start()
