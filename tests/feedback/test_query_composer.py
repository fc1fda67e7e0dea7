"""Query building from a set summary and the offline grounded composer."""

from __future__ import annotations

import re

from feedback.citations import cited_ids
from feedback.composer import OFFLINE_LABEL, compose_answer, compose_feedback
from feedback.query import build_query, describe_measurements, fault_groups, focus_of
from feedback.summary import SetSummary


def _set(faults: list[dict], reps: int = 3, view: str = "front") -> SetSummary:
    return SetSummary.model_validate(
        {
            "set_id": "a" * 32,
            "camera_id": "front",
            "view": view,
            "reps": reps,
            "mean_score": 80.0,
            "reps_detail": [
                {
                    "rep": i,
                    "score": 80.0 + i,
                    "deviation_deg": {"knee": 5.0 + i, "trunk_lean": 2.0},
                    "faults": [f for f in faults if f["rep"] == i],
                    "view": view,
                }
                for i in range(1, reps + 1)
            ],
            "faults": faults,
        }
    )


def _fault(code, severity, rep, value=None, threshold=None, unit=None):
    return {
        "code": code,
        "severity": severity,
        "cue": "a cue",
        "view": "front",
        "value": value,
        "threshold": threshold,
        "unit": unit,
        "rep": rep,
    }


def test_main_fault_is_the_most_severe_then_the_most_frequent():
    s = _set(
        [
            _fault("asymmetry", "warning", 1),
            _fault("asymmetry", "warning", 2),
            _fault("asymmetry", "warning", 3),
            _fault("knees_caving", "critical", 2, 0.7, 0.75, "ratio"),
        ]
    )
    assert [g.code for g in fault_groups(s)] == ["knees_caving", "asymmetry"]
    s = _set(
        [
            _fault("asymmetry", "warning", 1),
            _fault("knees_caving", "warning", 1),
            _fault("knees_caving", "warning", 2),
        ]
    )
    assert fault_groups(s)[0].code == "knees_caving"
    # Same severity and count: the one further past its threshold wins.
    s = _set(
        [
            _fault("asymmetry", "warning", 1, 16.0, 15.0, "deg"),
            _fault("knees_caving", "warning", 2, 0.6, 0.9, "ratio"),
        ]
    )
    assert fault_groups(s)[0].code == "knees_caving"


def test_worst_occurrence_is_the_most_severe_one():
    # Rep 1 is further past its (warning) threshold, but rep 2 crossed the critical one.
    s = _set(
        [
            _fault("forward_lean", "warning", 1, 29.0, 25.0, "deg"),
            _fault("forward_lean", "critical", 2, 37.5, 35.0, "deg"),
        ]
    )
    worst = fault_groups(s)[0].worst
    assert (worst.rep, worst.value, worst.threshold) == (2, 37.5, 35.0)


def test_query_names_the_main_fault_or_the_largest_deviation(knees_set, clean_set):
    assert "knees caving in" in build_query(knees_set)
    assert focus_of(clean_set).fault is None and focus_of(clean_set).joint == "trunk_lean"
    assert "trunk angle" in build_query(clean_set)


def test_measurements_for_the_prompt_list_reps_and_faults(knees_set):
    text = describe_measurements(knees_set)
    assert "3 reps" in text and "Rep 2: score 71.2" in text
    assert (
        "knees_caving (critical, rep 2, front view, on the way down and on the way up): knee-to-shoulder width "
        "ratio over the deep part of the rep 0.55, limit 0.58" in text
    )


def test_offline_feedback_covers_what_why_cue_drill_and_cites_only_given_chunks(retriever, knees_set):
    chunks = retriever.retrieve(build_query(knees_set))
    text = compose_feedback(knees_set, chunks)
    assert text.startswith(OFFLINE_LABEL)
    for part in (
        "**What went well:**",
        "**Main fault — Knees caving in:** critical on reps 1, 2 and 3",
        "**Why it happens:**",
        "**Cue:**",
        "**Drill",
    ):
        assert part in text, part
    assert "worst knee-to-shoulder width ratio over the deep part of the rep 0.52, limit 0.58" in text
    assert "Also flagged: Left-right asymmetry (warning on rep 3)." in text
    ids = cited_ids(text)
    assert ids and set(ids) <= {c.chunk_id for c in chunks}
    # Its why/cue/drill come from the document that explains the fault.
    assert any(i.startswith("knee-tracking#") for i in ids)
    assert "lower the load" in text  # a critical fault


def test_offline_feedback_for_a_clean_set_praises_and_coaches_the_largest_deviation(retriever, clean_set):
    text = compose_feedback(clean_set, retriever.retrieve(build_query(clean_set)))
    assert "No form fault was flagged on your rep." in text
    assert "**Main point — trunk lean:**" in text and "27° on average" in text


def test_offline_feedback_without_sources_or_reps_says_so(knees_set):
    text = compose_feedback(knees_set, [])
    assert "returned no passage" in text and not cited_ids(text)
    assert "(FormSync's cue for this fault)" in text
    empty = SetSummary.model_validate({"set_id": "b" * 32, "camera_id": "side", "reps": 0})
    assert "no completed rep" in compose_feedback(empty, [])


def test_offline_answer_quotes_and_cites_the_best_passages(retriever):
    chunks = retriever.retrieve("how should I breathe during a heavy squat")
    text = compose_answer("how should I breathe during a heavy squat", chunks)
    assert cited_ids(text) == [c.chunk_id for c in chunks[:2]]
    assert re.search(r"\*\*Bracing and breathing — [^*]+:\*\*", text)
