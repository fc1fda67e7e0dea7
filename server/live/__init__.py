"""The live view: cameras' newest frames and synchronised sets streamed to browsers over one
WebSocket per page element, beside (not through) the dashboard's Streamlit server.

- ``tokens``: short-lived signed display tokens, minted for a dashboard session with its viewer
  token, checked as a live socket's first message.
- ``mailbox``: a viewer's size-1 slot per stream (newest only, replaced items counted).
- ``fanout``: follows the hub's frame, sync-set and analysis events and fills the viewers' mailboxes.
- ``viewer``: one socket's sender, reading the newest frame from the store when it is its turn.
"""
