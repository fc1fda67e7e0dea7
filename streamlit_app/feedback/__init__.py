"""The Feedback page's helpers: the feedback service shared by every session, and pure view helpers."""
