"""Monitor page: every machine, process and camera of the pipeline at a glance, charts of the last
10 minutes, and the alerts (active and their log)."""


import time

import streamlit as st

from streamlit_app.charts import line_chart
from streamlit_app.fragments import live_fragment
from streamlit_app.models import LinkState
from streamlit_app.monitor.poller import CHARTS, MonitorPoller
from streamlit_app.monitor.render import (
    active_alert_rows,
    alert_log_rows,
    host_rows,
    pipeline_rows,
    process_rows,
)
from streamlit_app.monitor.resources import get_monitor_poller
from streamlit_app.render import connection_message
from streamlit_app.resources import page_settings

_PERCENT = st.column_config.NumberColumn(format="%.1f %%")


def render_tables(poller: MonitorPoller) -> None:
    snap = poller.snapshot()
    st.subheader("Hosts")
    st.dataframe(host_rows(snap), hide_index=True, column_config={
        "CPU %": _PERCENT, "memory %": _PERCENT, "disk free %": _PERCENT})
    st.subheader("Processes")
    st.dataframe(process_rows(snap, poller.local_process_id), hide_index=True,
                 column_config={"CPU %": _PERCENT})
    st.subheader("Pipeline")
    rows = pipeline_rows(snap)
    if rows:
        st.dataframe(rows, hide_index=True)
    else:
        st.caption("No camera yet: none has sent a frame or a heartbeat.")


def render_charts(poller: MonitorPoller) -> None:
    st.subheader("Last 10 minutes")
    now = time.time_ns()
    items = list(CHARTS.items())
    for row in (items[:3], items[3:]):
        for col, (group, title) in zip(st.columns(3), row):
            with col:
                st.caption(title)
                frame = poller.history.frame(group, now)
                if frame.empty or not len(frame.columns):
                    st.caption("no data yet")
                else:
                    line_chart(frame, x_title="time", y_title=title, height=200)


def render_alerts(poller: MonitorPoller) -> None:
    alerts = poller.snapshot().alerts
    st.subheader("Alerts")
    if alerts is None:
        st.caption("Not read from the hub yet.")
        return
    if alerts.active:
        st.dataframe(active_alert_rows(alerts.active), hide_index=True)
    else:
        st.caption("No active alert.")
    st.markdown("**Log** (fired and cleared, newest first; kept across hub restarts)")
    if alerts.log:
        st.dataframe(alert_log_rows(alerts.log), hide_index=True)
    else:
        st.caption("Nothing fired yet.")


def render_monitor(poller: MonitorPoller) -> None:
    snap = poller.snapshot()
    message = connection_message(snap.connection)
    if message:
        (st.error if snap.connection.state is LinkState.UNREACHABLE else st.info)(
            message, icon=":material/link_off:")
    render_tables(poller)
    render_charts(poller)
    render_alerts(poller)


def render_monitor_page() -> None:
    st.title("Monitor")
    settings = page_settings()
    poller = get_monitor_poller(settings.hub_url)
    live_fragment(render_monitor, settings.monitor_refresh_s, poller)
