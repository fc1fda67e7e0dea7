"""``formsync-dashboard [streamlit run options]`` (or ``python -m streamlit_app.serve``): the
dashboard (``streamlit run streamlit_app/app.py``) with the dashboard's own Streamlit options and a
quiet stop.

Streamlit reads ``.streamlit/config.toml`` from the working directory only, so the options of
``streamlit_app/config.toml`` (the checkout's ``.streamlit/config.toml`` links to it) are passed
as flags, before the caller's own: the dashboard behaves the same wherever it is started.

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
import tomllib
from pathlib import Path

APP = Path(__file__).with_name("app.py")
CONFIG = Path(__file__).with_name("config.toml")
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
    sys.argv = ["streamlit", "run", str(APP), *config_flags(), *(sys.argv[1:] if argv is None else argv)]
    try:
        cli.main()  # a click command: leaves through SystemExit with Streamlit's exit code
    finally:
        _stop_pollers()


def config_flags(path: Path = CONFIG) -> list[str]:
    """``--section.option=value`` for every option of the TOML file at ``path``."""
    config = tomllib.loads(path.read_text())
    return [f"--{section}.{name}={str(value).lower() if isinstance(value, bool) else value}"
            for section, options in config.items() for name, value in options.items()]


def _stop_pollers() -> None:
    from streamlit_app.monitor.resources import get_monitor_poller
    from streamlit_app.resources import get_poller

    for cached in (get_poller, get_monitor_poller):
        cached.clear()  # on_release stops and joins each poller


if __name__ == "__main__":
    main()
