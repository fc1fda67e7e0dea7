"""Live page: the synchronised set and every camera's newest frame. Its code lives in ``streamlit_app.live.page``."""

from streamlit_app.live.page import render_live_page

render_live_page()
