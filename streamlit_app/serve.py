"""``python -m streamlit_app.serve [streamlit run options]``: the dashboard (``streamlit run
streamlit_app/app.py``) with a quiet stop.

Streamlit stops its server on SIGINT/SIGTERM without waiting for a script run in progress, and a
page's live fragments rerun every second. When such a run ends after the server's event loop has
closed, Streamlit's own session code (``AppSession._on_scriptrunner_event``) raises
``RuntimeError: Event loop is closed`` in the script thread, and Python prints a traceback for an
ordinary Ctrl-C. Nothing is lost (the run's output has no browser left to go to), so exactly that
error in a Streamlit script thread is dropped; every other thread exception is reported as usual.

Streamlit does not release ``st.cache_resource`` entries when it stops either, so the hub pollers
the pages started would still be polling while the interpreter shuts down (and fail there). They
are stopped here once the server has stopped, through the caches' own ``on_release``.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

APP = Path(__file__).with_name("app.py")
_report = threading.excepthook


def _drop_closed_loop_race(args: threading.ExceptHookArgs) -> None:
    if (args.exc_type is RuntimeError and str(args.exc_value) == "Event loop is closed"
            and args.thread is not None and args.thread.name.startswith("ScriptRunner.")):
        return
    _report(args)


def main(argv: list[str] | None = None) -> None:
    """Run the dashboard; ``argv`` (default: the command line) are ``streamlit run`` options."""
    from streamlit.web import cli

    threading.excepthook = _drop_closed_loop_race
    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    try:
        cli.main()  # a click command: leaves through SystemExit with Streamlit's exit code
    finally:
        _stop_pollers()


def _stop_pollers() -> None:
    from .monitor_resources import get_monitor_poller
    from .resources import get_poller

    for cached in (get_poller, get_monitor_poller):
        cached.clear()  # on_release stops and joins each poller


if __name__ == "__main__":
    main()
