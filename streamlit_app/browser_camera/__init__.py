"""The browser as a camera (streamlit-webrtc): the sender behind the Browser camera page."""
