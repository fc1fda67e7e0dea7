"""Monitor page: machines, processes, the pipeline per camera, charts and alerts. Its code lives in
``streamlit_app.monitor.page``.
"""

from streamlit_app.monitor.page import render_monitor_page

render_monitor_page()
