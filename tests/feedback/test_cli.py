"""``python -m feedback`` commands, run in-process on the session's store (the model is loaded once)."""

from __future__ import annotations

import json

from feedback.citations import cited_ids
from feedback.cli import main
from feedback.composer import OFFLINE_LABEL
from feedback.summary import load_summary
from tests.feedback.conftest import SETS


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_retrieve_json_prints_ids_scores_and_text(capsys, store_path, knowledge_store):
    code, out, _ = run(
        capsys, "--store", str(store_path), "retrieve", "my heels come up at the bottom", "--json", "-k", "4"
    )
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 4 and rows[0]["doc_id"] == "heels-and-ankle-mobility"
    assert {"doc_id", "chunk_id", "score", "text", "references"} <= set(rows[0])
    assert (
        rows[0]["chunk_id"].startswith("heels-and-ankle-mobility#") and rows[0]["score"] >= rows[-1]["score"]
    )


def test_summary_feedback_prints_offline_coaching_for_a_saved_set(
    capsys, store_path, knowledge_store, monkeypatch
):
    monkeypatch.setenv("FORMSYNC_FEEDBACK_PROVIDER", "offline")
    code, out, err = run(
        capsys,
        "--store",
        str(store_path),
        "summary-feedback",
        str(SETS / "real_side_bodyweight_intellifit1.json"),
    )
    assert code == 0 and out.startswith(OFFLINE_LABEL)
    assert "**Main fault — Depth not reached:** warning on reps 1 and 2" in out
    sources = err.split("sources: ", 1)[1].split("\n", 1)[0].split(", ")
    assert set(cited_ids(out)) <= set(sources)


def test_bad_input_exits_2_with_a_message(capsys, store_path, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"set_id": "nothex", "camera_id": "side", "reps": 1}))
    code, _, err = run(capsys, "--store", str(store_path), "summary-feedback", str(bad))
    assert code == 2 and "set_id" in err and "Traceback" not in err
    code, _, err = run(capsys, "--store", str(store_path), "summary-feedback", str(tmp_path / "missing.json"))
    assert code == 2 and "missing.json" in err


def test_analysis_output_is_accepted_as_a_summary():
    analysis = {
        "reps": 1,
        "mean_score": 81.6,
        "view": "side",
        "faults": [],
        "in_rep": False,
        "aborted_reps": 0,
        "reps_detail": [
            {
                "rep": 1,
                "start_time_ns": 10,
                "end_time_ns": 2_000_000_010,
                "start_seq": 1,
                "bottom_seq": 20,
                "end_seq": 40,
                "duration_s": 2.0,
                "min_knee_deg": 80.0,
                "min_hip_height": 0.5,
                "score": 81.6,
                "deviation": {"deviation_deg": {"knee": 5.0}, "bottom_deviation_deg": {"knee": 7.0}},
                "faults": [
                    {
                        "name": "depth_not_reached",
                        "severity": "major",
                        "cue": "Sit deeper.",
                        "value": 31.0,
                        "threshold": 30.0,
                        "unit": "deg",
                        "view": "side",
                        "rep": 1,
                    }
                ],
                "view": "side",
            }
        ],
    }
    s = load_summary(analysis)
    assert s.reps == 1 and s.reps_detail[0].bottom_deviation_deg == {"knee": 7.0}
    assert [(f.code, f.severity, f.threshold) for f in s.faults] == [("depth_not_reached", "critical", 30.0)]


def test_evaluate_meets_the_retrieval_target(capsys, store_path, knowledge_store, monkeypatch):
    monkeypatch.setenv("FORMSYNC_FEEDBACK_PROVIDER", "offline")
    code, out, _ = run(capsys, "--store", str(store_path), "evaluate", "--repeats", "1", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["questions"] >= 30
    assert report["hit@3"] >= 0.9 and report["hit@1"] <= report["hit@3"]
    assert report["offline_feedback_ms"]["runs"] == len(list(SETS.glob("*.json")))
    assert report["first_token_ms"]["runs"] == 0
