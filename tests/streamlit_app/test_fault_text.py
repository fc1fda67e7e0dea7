"""How a fault reads on the Coach page, in the Feedback page's tables and in the feedback prompt:
where in the rep it happened and how much the camera's view can be trusted for it."""

from __future__ import annotations

from feedback.query import describe_fault
from feedback.summary import SetFault, SetSummary
from formsync.wire.sets import SetFault as WireFault
from streamlit_app.coach.view import fault_line
from streamlit_app.feedback.view import fault_rows, rep_rows

S = 10**9
MOMENTS = [{"start_time_ns": 10 * S + 400_000_000, "end_time_ns": 10 * S + 900_000_000, "peak_seq": 312,
            "phase": "descent"},
           {"start_time_ns": 11 * S + 600_000_000, "end_time_ns": 12 * S, "peak_seq": 350, "phase": "ascent"}]
CAVING = {"code": "knees_caving", "severity": "critical", "cue": "Push your knees out over your toes.",
          "view": "front", "value": 0.8, "threshold": 1.11, "unit": "ratio", "rep": 2, "confidence": "high",
          "moments": MOMENTS}
LEAN = {"code": "forward_lean", "severity": "warning", "cue": "Keep your chest up.", "view": "front",
        "value": 52.0, "threshold": 47.0, "unit": "deg", "rep": 2, "confidence": "low", "moments": MOMENTS[:1]}


def test_coach_line_says_when_in_the_rep_and_how_sure():
    line = fault_line(WireFault.model_validate(CAVING), "front-cam", rep_start_ns=10 * S)
    assert "**knees caving** rep 2" in line and "front-cam" in line
    assert "on the way down (0.4-0.9 s) and on the way up (1.6-2.0 s)" in line
    assert "low confidence" not in line and line.endswith("Push your knees out over your toes.")
    low = fault_line(WireFault.model_validate(LEAN))
    assert "low confidence" in low and "on the way down" in low and "(0." not in low


def test_fault_without_moments_reads_as_before():
    old = {k: v for k, v in CAVING.items() if k not in ("moments", "confidence")}
    assert fault_line(WireFault.model_validate(old)).startswith(":red") or "knees caving" in fault_line(
        WireFault.model_validate(old))
    assert "on the way" not in fault_line(WireFault.model_validate(old))


def test_prompt_and_tables_carry_the_moments_and_confidence():
    text = describe_fault(SetFault.model_validate(LEAN))
    assert "low confidence" in text and "on the way down" in text and "limit 47" in text
    summary = SetSummary.model_validate({
        "set_id": "a" * 32, "camera_id": "front-cam", "status": "closed", "started_at_ns": 10 * S,
        "ended_at_ns": 13 * S, "view": "front", "reps": 1, "mean_score": 70.0,
        "reps_detail": [{"rep": 2, "start_seq": 300, "bottom_seq": 330, "end_seq": 360, "score": 70.0,
                         "faults": [CAVING, LEAN]}],
        "faults": [CAVING, LEAN]})
    rows = {r["fault"]: r for r in fault_rows(summary)}
    assert rows["Knees caving in"]["when"] == "on the way down and on the way up"
    assert rows["Knees caving in"]["confidence"] == "high" and rows["Excessive forward lean"]["confidence"] == "low"
    assert "on the way down" in rep_rows(summary)[0]["faults"]
