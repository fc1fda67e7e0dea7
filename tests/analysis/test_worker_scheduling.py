"""The worker analyses only the newest frame: a slow analyser skips frames, never queues them."""

import asyncio
import threading
import time

import httpx
import pytest

from analysis.worker import AnalysisWorker
from clients.config import CameraConfig, ClientConfig
from clients.runner import start_workers, stop_workers
from tests.support import squat_clip, wait_until


class SlowAnalyzer:
    """Takes ``delay_s`` per frame and records what it saw."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.seqs: list[int] = []
        self.threads: set[str] = set()

    def analyze(self, image_bgr, *, seq, capture_time_ns):
        self.threads.add(threading.current_thread().name)
        self.seqs.append(seq)
        time.sleep(self.delay_s)
        return {"pose_found": False, "rep_count": 0, "rep_phase": "top", "faults": []}

    def close(self) -> None:
        pass


def run_worker(worker: AnalysisWorker, stop_flag: threading.Event) -> threading.Thread:
    def target() -> None:
        async def amain() -> None:
            stop = asyncio.Event()
            watcher = asyncio.create_task(asyncio.to_thread(stop_flag.wait))
            watcher.add_done_callback(lambda _: stop.set())
            await worker.run(stop)

        asyncio.run(amain())

    t = threading.Thread(target=target, name="test-worker")
    t.start()
    return t


@pytest.mark.skipif(not squat_clip("front_barbell_gymvision.mp4").exists(), reason="shared footage not found")
def test_slow_analyser_skips_frames_and_stays_on_the_newest(hub):
    analyzers: dict[str, SlowAnalyzer] = {}

    def make(camera_id):
        analyzers[camera_id] = SlowAnalyzer(0.15)
        return analyzers[camera_id]

    worker = AnalysisWorker(hub.url, make, worker_id="slow")
    stop = threading.Event()
    thread = run_worker(worker, stop)
    cams = start_workers(ClientConfig(hub_url=hub.url, status_interval_s=60, cameras=(
        CameraConfig(camera_id="front", source=str(squat_clip("front_barbell_gymvision.mp4"))),)))
    try:
        assert wait_until(lambda: "front" in analyzers and len(analyzers["front"].seqs) >= 12, timeout=20)
        result = httpx.get(hub.url + "/api/v1/cameras/front/analysis").json()
        newest = hub.store.latest("front").seq
    finally:
        assert stop_workers(cams) == []
        stop.set()
        thread.join(10)
    seqs = analyzers["front"].seqs
    track = worker.tracks["front"]
    # ~30 fps in, ~6.7 analyses/s: most frames are skipped, and counted.
    assert track.skipped > track.analysed
    assert result["skipped_frames"] > 0 and result["worker_id"] == "slow"
    # ~4.5 frames arrive per 150 ms analysis; under CPU load the client's pacing can bunch a few,
    # so the typical gap is checked, not every one.
    gaps = sorted(b - a for a, b in zip(seqs[3:], seqs[4:]))
    assert gaps[len(gaps) // 2] >= 3 and sum(g == 1 for g in gaps) <= len(gaps) // 4, seqs
    # No backlog: the latest result is for a frame at most ~two analyses behind the newest.
    assert newest - result["seq"] <= 12
    assert analyzers["front"].threads == {"analysis:front_0"}
    assert not thread.is_alive()
