"""The dashboard launcher drops exactly Streamlit's shutdown race and nothing else."""

from __future__ import annotations

import threading

import pytest

from streamlit_app import serve


def run_in_thread(name: str, exc: BaseException, monkeypatch) -> list[BaseException]:
    reported: list[BaseException] = []
    monkeypatch.setattr(serve, "_report", lambda args: reported.append(args.exc_value))
    monkeypatch.setattr(threading, "excepthook", serve._drop_closed_loop_race)

    def fail() -> None:
        raise exc

    t = threading.Thread(target=fail, name=name)
    t.start()
    t.join(5)
    return reported


def test_a_script_thread_meeting_the_closed_loop_at_shutdown_is_quiet(monkeypatch):
    assert run_in_thread("ScriptRunner.scriptThread", RuntimeError("Event loop is closed"), monkeypatch) == []


@pytest.mark.parametrize("name, exc", [
    ("ScriptRunner.scriptThread", RuntimeError("something else")),
    ("ScriptRunner.scriptThread", ValueError("Event loop is closed")),
    ("hub-poller:127.0.0.1:8000", RuntimeError("Event loop is closed")),
])
def test_every_other_thread_exception_is_reported(monkeypatch, name, exc):
    assert run_in_thread(name, exc, monkeypatch) == [exc]


def test_the_dashboards_streamlit_options_become_flags_wherever_it_starts():
    import tomllib

    from streamlit.web.cli import main_run

    flags = serve.config_flags()
    config = tomllib.loads(serve.CONFIG.read_text())
    assert len(flags) == sum(len(options) for options in config.values()) >= 5
    assert "--global.minCachedMessageSize=1000000000000000.0" in flags  # the stall fix (config.toml)
    assert "--runner.postScriptGC=false" in flags
    # Every flag names a real `streamlit run` option: a typo would stop the dashboard at start.
    known = {opt for p in main_run.params for opt in p.opts}
    assert all(f.split("=")[0] in known for f in flags), [f for f in flags if f.split("=")[0] not in known]
    # The checkout's .streamlit/config.toml is this very file, for a plain `streamlit run`.
    assert (serve.CONFIG.parent.parent / ".streamlit" / "config.toml").resolve() == serve.CONFIG.resolve()
