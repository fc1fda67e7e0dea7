"""FormSync dashboard: hub client and poller, latest-frame queues, rendering helpers.

Everything here is importable without a Streamlit runtime except ``resources`` (the
``st.cache_resource`` accessors), which only pages import.
"""
