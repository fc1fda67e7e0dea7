"""FormSync dashboard entry point: ``formsync-dashboard``, or ``streamlit run streamlit_app/app.py``.

Adding a page is one file in ``pages/`` and one line in ``PAGES``.
"""

from pathlib import Path

import streamlit as st

import pages
from streamlit_app.monitor.banner import render_alert_banner

# st.Page resolves a relative path against this script's folder, not the working directory, and an
# installed dashboard has its pages in site-packages: they are named by the package's own path.
PAGES_DIR = Path(pages.__file__).resolve().parent

st.set_page_config(page_title="FormSync", page_icon=":material/fitness_center:", layout="wide")

PAGES = [
    st.Page(PAGES_DIR / "live.py", title="Live", icon=":material/videocam:", default=True),
    st.Page(PAGES_DIR / "monitor.py", title="Monitor", icon=":material/monitor_heart:"),
    st.Page(PAGES_DIR / "coach.py", title="Coach", icon=":material/sports:"),
    st.Page(PAGES_DIR / "gaze.py", title="Gaze", icon=":material/visibility:"),
    st.Page(PAGES_DIR / "feedback.py", title="Feedback", icon=":material/forum:"),
    st.Page(PAGES_DIR / "browser_camera.py", title="Browser camera", icon=":material/photo_camera:"),
]
# Pages that must not share their runs with a run_every fragment (see render_alert_banner).
STATIC_BANNER_PAGES = {"browser_camera"}

page = st.navigation(PAGES)
render_alert_banner(live=page.url_path not in STATIC_BANNER_PAGES)  # active alerts above every page
page.run()
