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
