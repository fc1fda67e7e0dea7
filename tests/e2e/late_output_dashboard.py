"""The dashboard (``streamlit_app.serve``) with its server sending each page run's output late:
what a loaded machine does to it at random, on every run.

Streamlit's event loop sends a session's queued messages when it gets to them. On a loaded machine
a ``run_every`` fragment's next rerun can start first, and Streamlit then clears that fragment's
unsent messages from the queue (``ForwardMsgQueue.clear``). Here every flush that reaches a
fragment's ``auto_rerun`` message sends up to it and holds the rest until the next run clears the
queue, so the fragment's rerun always finds its first output unsent.

Each clear that drops a fragment's messages writes a line to ``FORMSYNC_TEST_CLEAR_LOG``, so a test
knows the race took place.

    python -m tests.e2e.late_output_dashboard [streamlit run options]
"""

from __future__ import annotations

import os

from streamlit.runtime.forward_msg_queue import ForwardMsgQueue

from streamlit_app.serve import main

_clear, _flush = ForwardMsgQueue.clear, ForwardMsgQueue.flush
LOG = os.environ.get("FORMSYNC_TEST_CLEAR_LOG")


def _late_flush(self: ForwardMsgQueue) -> list:
    if getattr(self, "_held", False):
        return []
    for i, msg in enumerate(self._queue):
        if msg.WhichOneof("type") == "auto_rerun":
            self._held = True
            sent, self._queue = self._queue[: i + 1], self._queue[i + 1:]
            return sent
    return _flush(self)


def _logged_clear(self: ForwardMsgQueue, retain_lifecycle_msgs: bool = False,
                  fragment_ids_this_run: list[str] | None = None) -> None:
    self._held = False
    before = len(self._queue)
    _clear(self, retain_lifecycle_msgs, fragment_ids_this_run)
    if fragment_ids_this_run and LOG and len(self._queue) < before:
        with open(LOG, "a") as log:
            log.write(f"fragment rerun dropped {before - len(self._queue)} unsent messages\n")


if __name__ == "__main__":
    ForwardMsgQueue.flush, ForwardMsgQueue.clear = _late_flush, _logged_clear
    main()
