"""``run_every`` fragments that a fragment rerun cannot cut out of their page.

Streamlit 1.60 puts each fragment in a container of its own, created by the fragment and tagged
with its id. When the fragment's next rerun starts before the server has sent the page run's
output (a ``run_every`` of 0.1 s on a loaded machine), Streamlit clears that fragment's unsent
messages from the session's queue (``ForwardMsgQueue.clear``) and keeps everything else. The
fragment's container goes too, and the elements after it then arrive at a position the browser
does not have yet: ``Bad delta path index N (should be between [0, N-1])``, after which the page
stops updating and its WebSocket closes.

``live_fragment`` runs the fragment inside a container the page's own run creates. That one
carries no fragment id, so the clear keeps it, and every later element keeps its parent.
``tests/e2e/test_fragment_reruns.py`` forces the race on every page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st


def live_fragment(render: Callable[..., Any], run_every: float, *args: Any, **kwargs: Any) -> None:
    """Run ``render(*args, **kwargs)`` now, and again every ``run_every`` seconds as a fragment, in
    a container of the calling run."""
    with st.container():
        st.fragment(render, run_every=run_every)(*args, **kwargs)
