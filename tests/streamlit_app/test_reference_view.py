"""What the Coach page says about references and build jobs (pure helpers of streamlit_app.coach.view)."""

from formsync.wire.references import ReferenceJob, ReferenceMeta
from streamlit_app.coach.view import job_status, reference_label


def a_job(**fields) -> ReferenceJob:
    base = {"job_id": "0" * 32, "name": "deep", "source": "deep.mp4", "state": "queued", "video_bytes": 10,
            "worker_id": None, "frames_done": 0, "frames_total": None, "attempts": 0, "content_hash": None,
            "error": None, "created_time_ns": 1, "updated_time_ns": 1}
    return ReferenceJob.model_validate({**base, **fields})


def test_a_job_shows_as_a_bar_from_queued_to_its_outcome():
    assert job_status(None).fraction == 0 and "Sent" in job_status(None).text
    queued = job_status(a_job())
    assert queued.fraction == 0 and queued.outcome is None and "waiting for a worker" in queued.text
    assert "again" in job_status(a_job(attempts=1)).text
    reading = job_status(a_job(state="running", worker_id="w1", attempts=1))
    assert reading.fraction == 0 and reading.text == "w1 builds 'deep': pose on reading the video"
    running = job_status(a_job(state="running", worker_id="w1", frames_done=50, frames_total=200, attempts=1))
    assert running.fraction == 0.25 and running.text == "w1 builds 'deep': pose on frame 50 of 200"
    done = job_status(a_job(state="done", frames_done=200, frames_total=200, content_hash="a" * 64))
    assert done.fraction == 1 and done.outcome == "done" and "choose it above" in done.detail
    failed = job_status(a_job(state="failed", frames_done=15, frames_total=15,
                              error={"code": "no_rep_found", "message": "no complete rep found in x.mp4"}))
    assert failed.outcome == "failed" and failed.detail == "No reference built: no complete rep found in x.mp4"
    assert failed.fraction == 1


def test_a_reference_is_labelled_by_name_view_reps_and_video():
    meta = ReferenceMeta.model_validate({
        "format": 4, "name": "deep", "source": "/tmp/x/deep.mp4", "fps": 30, "frames": 90, "view": "front",
        "reps": [{"index": 1, "start": 0, "bottom": 40, "end": 80, "min_knee": 70, "min_hip_height": 0.5}],
        "angle_names": ["knee_left"], "content_hash": "a" * 64, "data_bytes": 1, "pictures": 90,
        "created_time_ns": 1})
    assert reference_label(meta) == "deep · front view · 1 rep · from deep.mp4"
