"""Browser camera page: the browser as one more camera. Its code lives in ``streamlit_app.browser_camera.page``."""

from streamlit_app.browser_camera.page import render_browser_camera_page

render_browser_camera_page()
