"""FormSync dashboard entry point: ``streamlit run streamlit_app/app.py`` (from the repo root).

Adding a page is one file in ``pages/`` and one line in ``PAGES``.
"""

from pathlib import Path

import streamlit as st

# st.Page resolves a relative path against this script's folder (streamlit_app/), not the working
# directory, so pages/ at the repo root is named by an absolute path.
PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"

st.set_page_config(page_title="FormSync", page_icon=":material/fitness_center:", layout="wide")

PAGES = [
    st.Page(PAGES_DIR / "live.py", title="Live", icon=":material/videocam:", default=True),
]

st.navigation(PAGES).run()
