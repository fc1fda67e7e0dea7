"""FormSync dashboard entry point: ``streamlit run streamlit_app/app.py`` (from the repo root).

Adding a page is one file in ``pages/`` and one line in ``PAGES``.
"""

import sys
from pathlib import Path

import streamlit as st

# st.Page resolves a relative path against this script's folder (streamlit_app/), not the working
# directory, so pages/ at the repo root is named by an absolute path.
PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
# ... and puts only streamlit_app/ on sys.path: the repo root is needed to import the package.
if str(PAGES_DIR.parent) not in sys.path:
    sys.path.insert(0, str(PAGES_DIR.parent))

from streamlit_app.alert_banner import render_alert_banner  # noqa: E402

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
