"""Building a reference is a job requested through the hub: a video uploaded with a viewer token,
taken by exactly one worker, built with MediaPipe, its progress and outcome reported to the hub
and announced as events, the reference then served by the hub. Real hub, real workers, real clips
(poses from the pose cache where a clip was analysed before)."""

from __future__ import annotations

import json
import threading

import cv2
import httpx
import numpy as np
import pytest
from websockets.sync.client import connect

from analysis.reference import THUMB_HEIGHT
from analysis.worker import AnalysisWorker
from tests.analysis.test_worker_scheduling import run_worker
from tests.support import RunningHub, squat_clip, wait_until

CLIP = squat_clip("side_bodyweight_intellifit1.mp4")  # 187 frames, 2 reps, side view
pytestmark = pytest.mark.skipif(not CLIP.exists(), reason="shared footage not found")


class Idle:
    def analyze(self, image_bgr, *, seq, capture_time_ns):
        return {"pose_found": False, "rep_count": 0, "rep_phase": "unknown", "faults": []}

    def close(self) -> None:
        pass


def submit(hub_url: str, name: str, video: bytes, source: str = "clip.mp4", **headers) -> httpx.Response:
    return httpx.post(f"{hub_url}/api/v1/reference-jobs", params={"name": name, "source": source},
                      content=video, headers={"Content-Type": "video/mp4", **headers}, timeout=30)


def job_events(ws, job_id: str, timeout_s: float = 120) -> tuple[list[dict], list[dict]]:
    """(the job's states from its ``reference_job`` events until it ends, every other event meanwhile)."""
    seen, others = [], []
    while True:
        event = json.loads(ws.recv(timeout_s))
        if event["type"] != "reference_job" or event["job"]["job_id"] != job_id:
            others.append(event)
            continue
        seen.append(event["job"])
        if event["job"]["state"] in ("done", "failed"):
            return seen, others


@pytest.fixture
def workers(hub):
    """Two workers that take build jobs (the clip needs one)."""
    made = [AnalysisWorker(hub.url, lambda cam: Idle(), worker_id=f"builder{k}", build_references=True)
            for k in range(2)]
    stop = threading.Event()
    threads = [run_worker(w, stop) for w in made]
    assert wait_until(lambda: all(w.connected.is_set() for w in made), 15)
    yield made
    stop.set()
    for t in threads:
        t.join(20)


def test_a_video_uploaded_to_the_hub_is_built_by_one_worker_with_progress_and_served(hub, workers):
    with connect(hub.url.replace("http", "ws") + "/api/v1/events?types=reference_job,reference") as ws:
        r = submit(hub.url, "intellifit", CLIP.read_bytes(), CLIP.name)
        assert r.status_code == 202, r.text
        job = r.json()
        assert job["state"] == "queued" and job["video_bytes"] == CLIP.stat().st_size
        assert r.headers["location"] == f"/api/v1/reference-jobs/{job['job_id']}"
        seen, others = job_events(ws, job["job_id"])
    # The reference is stored before the job is reported done.
    [stored] = [e for e in others if e["type"] == "reference"]
    states = [j["state"] for j in seen]
    assert states[0] == "queued" and states[-1] == "done" and "running" in states, states
    running = [j for j in seen if j["state"] == "running"]
    assert len({j["worker_id"] for j in running}) == 1  # exactly one worker built it
    done_counts = [j["frames_done"] for j in running]
    assert done_counts == sorted(done_counts) and running[-1]["frames_total"] == 187
    assert any(0 < d < 187 for d in done_counts), done_counts  # progress along the way, not only the end
    final = seen[-1]
    assert final["frames_done"] == 187 and final["attempts"] == 1 and final["error"] is None
    assert sum(w.builder.built for w in workers) == 1

    meta = httpx.get(f"{hub.url}/api/v1/references/intellifit").json()
    assert meta["content_hash"] == final["content_hash"] == stored["content_hash"]
    assert stored["change"] == "stored" and stored["name"] == "intellifit"
    assert meta["view"] == "side" and len(meta["reps"]) == 2 and meta["pictures"] == 187
    assert meta["source"].endswith(".mp4")
    bottom = meta["reps"][0]["bottom"]
    picture = httpx.get(f"{hub.url}/api/v1/references/intellifit/frames/{bottom}.jpg")
    assert picture.status_code == 200
    assert cv2.imdecode(np.frombuffer(picture.content, np.uint8), cv2.IMREAD_COLOR).shape[0] == THUMB_HEIGHT
    assert httpx.get(f"{hub.url}/api/v1/reference-jobs/{job['job_id']}").json() == final
    # The video is gone with the job.
    assert not any(hub.settings.reference_root.joinpath("jobs").glob("*.video"))


def standing_clip(path) -> bytes:
    """Half a second of someone standing still (from a real clip): no rep in it."""
    cap = cv2.VideoCapture(str(squat_clip("workouttracker_squat_11.mp4")))
    ok, frame = cap.read()
    h, w = frame.shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (w // 2, h // 2))
    for _ in range(15):
        ok, frame = cap.read()
        out.write(cv2.resize(frame, (w // 2, h // 2)))
    out.release()
    cap.release()
    return path.read_bytes()


def test_a_video_without_a_rep_is_refused_and_stores_nothing(hub, workers, tmp_path):
    with connect(hub.url.replace("http", "ws") + "/api/v1/events?types=reference_job") as ws:
        r = submit(hub.url, "standing", standing_clip(tmp_path / "standing.mp4"), "standing.mp4")
        assert r.status_code == 202, r.text
        final = job_events(ws, r.json()["job_id"])[0][-1]
    assert final["state"] == "failed" and final["error"]["code"] == "no_rep_found", final
    assert "no complete rep" in final["error"]["message"]
    assert httpx.get(f"{hub.url}/api/v1/references/standing").status_code == 404


def test_bad_job_requests_are_refused_with_clear_errors(hub, tmp_path):
    cases = [
        (submit(hub.url, "mine", b""), 422, "empty_video"),
        (submit(hub.url, "mine", b"GIF89a" + b"\x00" * 64), 415, "unsupported_media_type"),
        (submit(hub.url, "../etc", CLIP.read_bytes()), 422, "validation_error"),
        (httpx.get(f"{hub.url}/api/v1/reference-jobs/{'0' * 32}"), 404, "job_not_found"),
        (httpx.get(f"{hub.url}/api/v1/reference-jobs/nope"), 422, "invalid_job_id"),
        (httpx.post(f"{hub.url}/api/v1/reference-jobs/{'0' * 32}/done",
                    json={"worker_id": "w", "content_hash": "0" * 64}), 404, "job_not_found"),
        (httpx.post(f"{hub.url}/api/v1/reference-jobs/{'0' * 32}/failed",
                    json={"worker_id": "w", "code": "exploded", "message": "?"}), 422, "validation_error"),
    ]
    for r, status, code in cases:
        assert r.status_code == status and r.json()["error"]["code"] == code, (status, code, r.text[:300])
    assert httpx.get(f"{hub.url}/api/v1/reference-jobs").json() == {"jobs": []}
    with RunningHub(max_video_bytes=CLIP.stat().st_size - 1) as small:
        r = submit(small.url, "mine", CLIP.read_bytes())
        assert r.status_code == 413 and r.json()["error"]["code"] == "video_too_large"
        assert not any((small.settings.reference_root / "jobs").iterdir())  # nothing left of the upload
    worker, viewer = "w" * 20, "v" * 20
    with RunningHub(worker_tokens=[worker], viewer_tokens=[viewer], camera_tokens=["c" * 20],
                    db_path=str(tmp_path / "hub.db")) as locked:
        assert submit(locked.url, "mine", CLIP.read_bytes(), Authorization=f"Bearer {worker}").status_code == 403
        assert submit(locked.url, "mine", CLIP.read_bytes(), Authorization=f"Bearer {viewer}").status_code == 202


def test_a_job_whose_worker_is_not_the_holder_is_refused(hub):
    r = submit(hub.url, "mine", CLIP.read_bytes())
    job_id = r.json()["job_id"]
    claimed = httpx.post(f"{hub.url}/api/v1/reference-jobs/claim", json={"worker_id": "w1"})
    assert claimed.status_code == 200 and claimed.json()["job_id"] == job_id
    assert httpx.post(f"{hub.url}/api/v1/reference-jobs/claim", json={"worker_id": "w2"}).status_code == 204
    jobs = f"{hub.url}/api/v1/reference-jobs/{job_id}"
    late = httpx.post(f"{jobs}/progress", json={"worker_id": "w2", "frames_done": 1})
    assert late.status_code == 409 and late.json()["error"]["code"] == "job_not_held"
    early = httpx.post(f"{jobs}/done", json={"worker_id": "w1", "content_hash": "0" * 64})
    assert early.status_code == 409 and early.json()["error"]["code"] == "reference_not_stored"
    video = httpx.get(f"{jobs}/video")
    assert video.status_code == 200 and video.content == CLIP.read_bytes()
