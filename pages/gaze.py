"""Gaze page: gaze and head pose against the on-target band, and calibration. Its code lives in
``streamlit_app.gaze.page``.
"""

from streamlit_app.gaze.page import render_gaze_page

render_gaze_page()
