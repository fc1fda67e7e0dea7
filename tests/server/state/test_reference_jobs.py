"""The build-job queue, embedded and in Redis: exactly one claim per job, leases that run out, restarts."""

import threading

import pytest

from server.references.jobs import EmbeddedJobQueue, JobConflict, JobNotFound
from server.shared_state.connection import connect_sync
from server.shared_state.reference_jobs import RedisJobQueue


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000_000

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1e9)


def a_video(tmp_path, name="v"):
    path = tmp_path / f"{name}.upload"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    return path


def open_queue(url: str | None, tmp_path, video_dir: str = "jobs", **kwargs):
    """The embedded queue (SQLite in ``tmp_path``) without ``url``, else a hub's queue in that Redis."""
    if url is None:
        return EmbeddedJobQueue(tmp_path / "hub.db", tmp_path / video_dir, **kwargs)
    return RedisJobQueue(connect_sync(url), tmp_path / video_dir, owns_client=True, **kwargs)


@pytest.fixture
def queue(tmp_path, state_redis_url):
    clock = Clock()
    q = open_queue(state_redis_url, tmp_path, lease_s=10, attempts=2, clock=clock)
    q.clock = clock
    yield q
    q.close()


def test_each_queued_job_goes_to_exactly_one_of_many_claimers(queue, tmp_path):
    jobs = [queue.submit(f"ref{k}", "v.mp4", a_video(tmp_path, str(k)))["job_id"] for k in range(3)]
    got: list[tuple[str, str]] = []
    start = threading.Barrier(8)

    def claimer(worker: str) -> None:
        start.wait()
        while (job := queue.claim(worker)) is not None:
            got.append((job["job_id"], worker))

    threads = [threading.Thread(target=claimer, args=(f"w{k}",)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(j for j, _ in got) == sorted(jobs)
    for job_id, worker in got:
        job = queue.get(job_id)
        assert job["state"] == "running" and job["worker_id"] == worker and job["attempts"] == 1


def test_oldest_job_first_and_reports_only_from_the_holder(queue, tmp_path):
    first = queue.submit("a", "a.mp4", a_video(tmp_path, "a"))
    queue.clock.advance(1)
    queue.submit("b", "b.mp4", a_video(tmp_path, "b"))
    job = queue.claim("w1")
    assert job["job_id"] == first["job_id"] and queue.video(job["job_id"]).stat().st_size == job["video_bytes"]
    with pytest.raises(JobConflict):
        queue.progress(job["job_id"], "w2", 5, 10)
    with pytest.raises(JobNotFound):
        queue.progress("f" * 32, "w1", 5, 10)
    assert queue.progress(job["job_id"], "w1", 5, 10)["frames_done"] == 5
    done = queue.finish(job["job_id"], "w1", "ab" * 32)
    assert done["state"] == "done" and done["content_hash"] == "ab" * 32 and done["frames_done"] == 10
    assert queue.video(job["job_id"]) is None  # the video goes with the job
    with pytest.raises(JobConflict):
        queue.fail(job["job_id"], "w1", "build_failed", "late")


def test_a_silent_worker_loses_the_job_to_another_then_it_fails_as_worker_lost(queue, tmp_path):
    job = queue.submit("a", "a.mp4", a_video(tmp_path))
    assert queue.claim("w1")["job_id"] == job["job_id"]
    queue.clock.advance(9)
    assert queue.expire() == []  # within the lease
    queue.progress(job["job_id"], "w1", 3, 10)  # renews it
    queue.clock.advance(9)
    assert queue.expire() == []
    queue.clock.advance(2)
    [requeued] = queue.expire()
    assert requeued["state"] == "queued" and requeued["worker_id"] is None and requeued["attempts"] == 1
    with pytest.raises(JobConflict):  # the first worker can no longer report on it
        queue.progress(job["job_id"], "w1", 4, 10)
    assert queue.claim("w2")["attempts"] == 2
    queue.clock.advance(11)
    [lost] = queue.expire()
    assert lost["state"] == "failed" and lost["error"]["code"] == "worker_lost"
    assert queue.claim("w3") is None and queue.video(job["job_id"]) is None


def test_jobs_survive_a_restart(tmp_path, state_redis_url):
    q = open_queue(state_redis_url, tmp_path)
    queued = q.submit("a", "a.mp4", a_video(tmp_path, "a"))
    failed = q.submit("b", "b.mp4", a_video(tmp_path, "b"))
    q.claim("w1")
    q.fail(q.claim("w1")["job_id"], "w1", "no_rep_found", "no rep")
    q.close()
    again = open_queue(state_redis_url, tmp_path)
    try:
        assert again.get(queued["job_id"])["state"] == "running"  # its worker may still be at it
        assert again.get(failed["job_id"])["error"] == {"code": "no_rep_found", "message": "no rep"}
        assert again.video(queued["job_id"]) is not None and again.video(failed["job_id"]) is None
        assert [j["name"] for j in again.list()] == ["b", "a"]
    finally:
        again.close()


def test_a_job_submitted_to_one_hub_is_claimed_and_built_through_another(redis_url, tmp_path):
    hub_a = open_queue(redis_url, tmp_path, "a-jobs", lease_s=10, attempts=2)
    hub_b = open_queue(redis_url, tmp_path, "b-jobs", lease_s=10, attempts=2)
    try:
        video = a_video(tmp_path)
        body = video.read_bytes()
        job = hub_a.submit("a", "a.mp4", video)
        assert hub_a.claim("w1")["job_id"] == job["job_id"] and hub_b.claim("w2") is None
        copy = hub_b.video(job["job_id"])  # the other hub serves the video from Redis
        assert copy.parent == tmp_path / "b-jobs" and copy.read_bytes() == body
        with pytest.raises(JobConflict):
            hub_b.progress(job["job_id"], "w2", 1, 2)
        assert hub_b.progress(job["job_id"], "w1", 1, 2)["frames_done"] == 1
        assert hub_a.finish(job["job_id"], "w1", "cd" * 32)["state"] == "done"
        assert hub_b.video(job["job_id"]) is None and not copy.exists()
        assert [j["state"] for j in hub_b.list()] == ["done"]
    finally:
        hub_a.close()
        hub_b.close()


def test_an_expired_job_is_queued_again_once_whichever_hubs_check(redis_url, tmp_path):
    clock = Clock()
    hubs = [open_queue(redis_url, tmp_path, f"jobs{k}", lease_s=10, attempts=2, clock=clock) for k in range(3)]
    try:
        job = hubs[0].submit("a", "a.mp4", a_video(tmp_path))
        hubs[1].claim("w1")
        clock.advance(11)
        changed = [c for hub in hubs for c in hub.expire()]
        assert [(c["job_id"], c["state"]) for c in changed] == [(job["job_id"], "queued")]
        assert hubs[2].claim("w2")["attempts"] == 2
    finally:
        for hub in hubs:
            hub.close()
