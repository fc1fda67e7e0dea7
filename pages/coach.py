"""Coach page: live coaching per camera against the reference, and the set history. Its code lives in
``streamlit_app.coach.page``.
"""

from streamlit_app.coach.page import render_coach_page

render_coach_page()
