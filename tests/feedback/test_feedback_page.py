"""The Feedback page under AppTest against a real hub (sets PUT through its API), with the real
embedding model and the session's chromadb store."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from feedback.citations import cited_ids
from feedback.composer import OFFLINE_ANSWER_LABEL, OFFLINE_LABEL
from tests.conftest import synthetic_jpeg
from tests.feedback.conftest import SETS
from tests.streamlit_app.conftest import post_frame

PAGE = Path(__file__).resolve().parents[2] / "pages" / "feedback.py"
APP = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"
TIMEOUT_S = 60  # the first run may load the embedding model on a shared 2-core machine


@pytest.fixture
def page_env(monkeypatch, store_path, knowledge_store):
    def point_at(hub_url: str, **feedback) -> None:
        monkeypatch.setenv("FORMSYNC_HUB_URL", hub_url)
        monkeypatch.setenv("FORMSYNC_FEEDBACK_STORE_PATH", str(store_path))
        monkeypatch.setenv("FORMSYNC_FEEDBACK_PROVIDER", "offline")
        for name, value in feedback.items():
            monkeypatch.setenv(f"FORMSYNC_FEEDBACK_{name.upper()}", str(value))

    return point_at


def put_set(hub_url: str, name: str, status: str = "closed") -> dict:
    body = json.loads((SETS / f"{name}.json").read_text())
    camera = body.pop("camera_id")
    body.pop("saved_at", None)
    body["status"] = status
    httpx.put(f"{hub_url}/api/v1/cameras/{camera}/set", json=body, timeout=5).raise_for_status()
    return body


def page_text(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def expander_labels(node) -> list[str]:
    """Labels of every expander under ``node``, nested ones included, in page order."""
    out = []
    for child in getattr(node, "children", {}).values():
        if type(child).__name__ == "Expander":
            out.append(child.label)
        out += expander_labels(child)
    return out


def source_ids(at: AppTest) -> set[str]:
    return {e.label.split("]", 1)[0].lstrip("[") for e in at.expander if e.label.startswith("[")}


def test_without_sets_the_page_says_so(hub, page_env):
    page_env(hub.url)
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT_S).run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Feedback"
    assert "No saved sets yet" in at.info[0].value


def test_a_saved_set_gets_streamed_coaching_with_its_sources(hub, page_env):
    page_env(hub.url)
    put_set(hub.url, "real_side_bodyweight_intellifit1")
    body = put_set(hub.url, "constructed_front_knees_caving")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.switch_page("../pages/feedback.py").run()
    assert not at.exception and not at.error
    picker = at.selectbox(key="feedback_saved")
    assert (
        len(picker.options) == 2
        and "front · " in picker.options[0]
        and "3 reps · score 72.9" in picker.options[0]
    )
    assert {m.label: m.value for m in at.metric} == {
        "Reps": "3",
        "Mean score": "72.9",
        "View": "front",
        "Status": "saved",
    }
    faults = at.dataframe[1].value
    assert list(faults["fault"]) == ["Knees caving in", "Left-right asymmetry"]
    assert list(faults["severity"]) == ["critical", "warning"]

    at.button(key="feedback_go").click().run()
    assert not at.exception and not at.error
    answer = next(m.value for m in at.markdown if m.value.startswith(OFFLINE_LABEL))
    assert "**Main fault — Knees caving in:** critical on reps 1, 2 and 3" in answer
    cited, shown = set(cited_ids(answer)), source_ids(at)
    assert cited and cited <= shown  # every citation has its source beside the answer
    assert body["set_id"] in at.session_state["feedback_by_set"]

    at.run()  # a rerun shows the same coaching without asking again
    assert any(m.value == answer for m in at.markdown) and source_ids(at) == shown


def test_follow_up_chat_answers_and_enforces_the_limits(hub, page_env):
    page_env(hub.url, requests_per_minute=3)
    put_set(hub.url, "real_side_bodyweight_intellifit1")
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT_S).run()
    assert not at.exception

    at.chat_input(key="feedback_chat").set_value("Do I need a spotter for heavy squats?").run()
    assert not at.exception and not at.error
    user, assistant = at.chat_message
    assert user.name == "user" and user.markdown[0].value == "Do I need a spotter for heavy squats?"
    answer = next(x.value for x in assistant.markdown if x.value.startswith(OFFLINE_ANSWER_LABEL))
    assert assistant.name == "assistant" and "[safety#" in answer
    # The answer's sources are in an expander inside its message, and back every citation.
    sources = {label.split("]")[0][1:] for label in expander_labels(assistant) if label.startswith("[")}
    assert set(cited_ids(answer)) <= sources

    at.chat_input(key="feedback_chat").set_value("x" * 2001).run()
    assert "2001 characters" in at.error[0].value and "limit is 2000" in at.error[0].value
    assert len(at.chat_message) == 2  # the long question was not sent

    at.chat_input(key="feedback_chat").set_value("How do I go deeper?").run()
    at.button(key="feedback_go").click().run()  # the third request of this minute
    assert not at.warning
    at.chat_input(key="feedback_chat").set_value("And my heels?").run()
    assert "Too many requests" in at.warning[0].value and "3 times per minute" in at.warning[0].value
    assert len(at.chat_message) == 4


def test_live_set_of_a_camera(hub, page_env):
    page_env(hub.url)
    post_frame(hub.url, "side", 0, synthetic_jpeg())
    put_set(hub.url, "constructed_side_forward_lean", status="open")
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT_S).run()
    at.radio(key="feedback_source").set_value("Live set").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="feedback_camera").value == "side"
    assert {m.label: m.value for m in at.metric}["Status"] == "live"
    at.button(key="feedback_go").click().run()
    assert "**Main fault — Excessive forward lean:** critical on reps 1 and 2" in page_text(at)


def test_unreachable_hub_and_bad_settings_are_reported(hub, page_env, monkeypatch):
    url = hub.url
    hub.stop()
    page_env(url)
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert "unreachable" in at.error[0].value and url in at.error[0].value
    monkeypatch.setenv("FORMSYNC_FEEDBACK_TOP_K", "0")
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT_S).run()
    assert not at.exception and "top_k" in at.error[0].value
