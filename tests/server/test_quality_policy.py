"""The adaptive-quality controller (AIMD) and the signals the hub computes for it."""

from __future__ import annotations

import asyncio
import time

import pytest

from server.quality.policy import CameraController, QualityPolicy, Signals, Tier
from server.quality.service import AdaptiveQuality
from server.results import EmbeddedLatestResults, StoredResult

POLICY = QualityPolicy()
BEHIND = Signals(skipped_share=0.4, ingest_p95_ms=10, cpu_percent=30)
IDLE = Signals(skipped_share=0.0, ingest_p95_ms=10, cpu_percent=30)


def run(controller: CameraController, signals: Signals, start_s: float, seconds: float, camera_fps=30.0):
    """Tick once a second; returns the fps after each tick."""
    out = []
    for i in range(int(seconds)):
        controller.step(signals, start_s + i + 1, camera_fps)
        out.append(controller.fps)
    return out


def test_pressure_cuts_multiplicatively_once_per_settle_time_down_to_the_floor():
    c = CameraController.start(POLICY, 30.0, 0.0)
    assert (c.fps, c.tier) == (30.0, 0)
    fps = run(c, BEHIND, 0.0, 10)
    # 30 * 0.7 = 21, then 14.7, 10.29, then the 10 fps floor; a cut every settle_s (2 s) at most.
    assert fps == [21.0, 21.0, 14.7, 14.7, 10.29, 10.29, 10.0, 10.0, 10.0, 10.0]
    assert c.tier == 2 and c.reason.startswith("analysis behind: 40 % of frames skipped")
    assert "floor" in c.reason


def test_headroom_raises_additively_back_to_the_camera_rate():
    c = CameraController.start(POLICY, 30.0, 0.0)
    run(c, BEHIND, 0.0, 7)
    assert c.fps == 10.0
    fps = run(c, IDLE, 7.0, 24)
    steps = sorted(set(fps))
    assert steps[0] == 10.0 and steps[-1] == 30.0
    assert all(b - a == pytest.approx(2.0) for a, b in zip(steps, steps[1:]))  # +2 fps a step, no jumps
    assert c.reason == "camera rate" and c.tier == 0


def test_between_the_bounds_the_target_holds():
    c = CameraController.start(POLICY, 30.0, 0.0)
    run(c, BEHIND, 0.0, 1)
    middle = Signals(skipped_share=0.07, ingest_p95_ms=70, cpu_percent=70)  # each between low and high
    assert run(c, middle, 1.0, 20) == [21.0] * 20


@pytest.mark.parametrize("signals, reason", [
    (Signals(cpu_percent=90), "hub CPU 90 %"),
    (Signals(ingest_p95_ms=250), "ingest latency p95 250 ms"),
])
def test_cpu_and_ingest_latency_are_pressure_too(signals, reason):
    c = CameraController.start(POLICY, 30.0, 0.0)
    assert c.step(signals, 1.0, 30.0) and c.fps == 21.0 and c.reason == reason


def test_a_cut_right_after_an_increase_is_not_delayed():
    c = CameraController.start(POLICY, 30.0, 0.0)
    run(c, BEHIND, 0.0, 1)
    run(c, IDLE, 1.0, 5)
    raised = c.fps
    assert raised > 21.0
    assert c.step(BEHIND, 6.1, 30.0) and c.fps == round(raised * 0.7, 2)


def test_the_target_never_exceeds_the_camera_nor_grows_on_unknown_signals_past_it():
    c = CameraController.start(POLICY, 12.0, 0.0)
    assert c.fps == 12.0
    assert run(c, Signals(), 0.0, 10, camera_fps=12.0) == [12.0] * 10
    assert c.step(Signals(), 11.0, 8.0) and c.fps == 8.0  # the camera slowed itself down


def test_inconsistent_policies_are_refused():
    with pytest.raises(ValueError, match="tiers"):
        QualityPolicy(tiers=(Tier(10, 640, 70), Tier(20, 320, 50), Tier(0, 320, 50)))
    with pytest.raises(ValueError, match="low"):
        QualityPolicy(cpu_low_percent=80)
    with pytest.raises(ValueError, match="decrease_factor"):
        QualityPolicy(decrease_factor=1.0)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def feed(quality: AdaptiveQuality, clock: Clock, results, seconds: int, *, fps: int, skipped_per_s: int,
         worker: str = "w1", skipped_start: int = 0) -> int:
    """``fps`` frames a second into ``quality``, a result every second whose worker skipped
    ``skipped_per_s`` of them; ticks once a second. Returns the worker's skipped count."""
    skipped = skipped_start
    for _ in range(seconds):
        for _ in range(fps):
            clock.now += 1 / fps
            quality.observe("cam", 30.0, 0, 20_000_000)
        clock.now = round(clock.now)  # whole seconds: no float drift against settle_s
        skipped += skipped_per_s
        ns = time.time_ns()
        asyncio.run(results.put(StoredResult("cam", ns, {"capture_time_ns": ns, "skipped_frames": skipped,
                                                         "worker_id": worker})))
        asyncio.run(quality.tick())
    return skipped


def test_the_hub_measures_the_skipped_share_from_the_workers_counters_and_lowers_the_target():
    clock, results = Clock(), EmbeddedLatestResults()
    quality = AdaptiveQuality(POLICY, results, lambda: 20.0, clock=clock)
    skipped = feed(quality, clock, results, 3, fps=30, skipped_per_s=0)
    assert quality.target("cam")["fps"] == 30.0
    feed(quality, clock, results, 1, fps=30, skipped_per_s=15, skipped_start=skipped)
    # The window still holds 2 s without skips: 15 of 90 frames, enough to cut.
    assert quality.target("cam")["fps"] == 21.0
    assert quality.target("cam")["reason"] == "analysis behind: 17 % of frames skipped"
    skipped = feed(quality, clock, results, 3, fps=30, skipped_per_s=15, skipped_start=skipped + 15)
    target = quality.target("cam")
    assert target["fps"] == 14.7 and target["reason"] == "analysis behind: 50 % of frames skipped"
    assert target["width"] == 480 and target["jpeg_quality"] == 65  # 14.7 fps: tier 2
    assert quality.target_json("cam").startswith('{"tier":2,')
    # Another worker takes the camera over: its count is its own (here high, from an earlier lease),
    # so the share restarts from its first result rather than jumping by the difference.
    feed(quality, clock, results, 2, fps=15, skipped_per_s=0, worker="w2", skipped_start=400)
    assert quality.target("cam")["fps"] == 14.7


def test_a_camera_nobody_analyses_is_judged_on_ingest_and_cpu_only():
    clock, results = Clock(), EmbeddedLatestResults()
    quality = AdaptiveQuality(POLICY, results, lambda: 95.0, clock=clock)
    for _ in range(30):
        clock.now += 1 / 30
        quality.observe("cam", 30.0, 0, 20_000_000)
    asyncio.run(quality.tick())
    assert quality.target("cam")["reason"] == "hub CPU 95 %" and quality.target("cam")["fps"] == 21.0
