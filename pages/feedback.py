"""Feedback page: RAG-grounded coaching on a saved or live set. Its code lives in ``streamlit_app.feedback.page``."""

from streamlit_app.feedback.page import render_feedback_page

render_feedback_page()
