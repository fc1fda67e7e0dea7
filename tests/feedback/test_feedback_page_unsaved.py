"""The Feedback page says when closed sets are only in the hub's memory because its database
refused them (disk full), and still offers them for coaching. A real hub process; the disk-full
condition as in tests/reliability/test_fault_set_storage.py."""

from __future__ import annotations

import httpx
from streamlit.testing.v1 import AppTest

from tests.feedback.test_feedback_page import PAGE, TIMEOUT_S, page_env  # noqa: F401  (fixture)
from tests.reliability.processes import HubProcess
from tests.reliability.test_fault_set_storage import DiskFull
from tests.server.test_sets_api import a_set


def test_unsaved_sets_are_flagged_and_still_offered(page_env, tmp_path):  # noqa: F811
    hub = HubProcess(tmp_path).start()
    try:
        page_env(hub.url)
        with httpx.Client(base_url=hub.url, timeout=10) as http:
            http.put("/api/v1/cameras/side/set", json=a_set()).raise_for_status()
            with DiskFull(hub, tmp_path / "hub.db"):
                body = a_set(ended=9 * 10**9, reps=3)
                assert http.put("/api/v1/cameras/side/set", json=body).json()["persisted"] is False
                at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT_S).run()
        assert not at.exception and not at.error
        warning = next(w.value for w in at.warning if "could not be saved" in w.value)
        assert "1 finished set(s)" in warning and "disk I/O error" in warning
        picker = at.selectbox(key="feedback_saved")
        assert len(picker.options) == 2 and "3 reps" in picker.options[0]  # the unsaved one, newest
    finally:
        hub.stop()
