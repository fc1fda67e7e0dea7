"""Properties of the ApproximateTime-style synchroniser, checked with hypothesis."""

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formsync.synchronizer import ApproximateTimeSync, newest_set

MS = 1_000_000


@dataclass(frozen=True)
class F:
    camera_id: str
    capture_time_ns: int
    index: int  # ground truth: source frame index


def stream(cam, n, period_ns, offset_ns, jitter):
    return [F(cam, i * period_ns + offset_ns + j, i) for i, j in zip(range(n), jitter)]


def feed(cams, frames_by_cam, max_spread, interval_window=0):
    sync = ApproximateTimeSync(cams, max_spread, interval_window=interval_window)
    merged = sorted((f for fs in frames_by_cam.values() for f in fs), key=lambda f: f.capture_time_ns)
    sets = []
    for f in merged:
        sets += sync.add(f.camera_id, f)
    return sync, sets


def indices(sets):
    return [tuple((f.camera_id, f.index) for f in s.frames) for s in sets]


times = st.lists(st.integers(0, 2_000 * MS), min_size=1, max_size=40, unique=True).map(sorted)


@settings(max_examples=200, deadline=None)
@given(st.lists(times, min_size=2, max_size=4), st.integers(1 * MS, 50 * MS), st.sampled_from([0, 1, 5]))
def test_invariants_on_arbitrary_streams(per_cam_times, max_spread, interval_window):
    cams = [f"c{i}" for i in range(len(per_cam_times))]
    frames = {c: [F(c, t, i) for i, t in enumerate(ts)] for c, ts in zip(cams, per_cam_times)}
    sync, sets = feed(cams, frames, max_spread, interval_window)
    used = [f for s in sets for f in s.frames]
    assert len(used) == len(set(used)), "a frame was used twice"
    for s in sets:
        assert [f.camera_id for f in s.frames] == cams
        ts = [f.capture_time_ns for f in s.frames]
        assert s.spread_ns == max(ts) - min(ts) <= max_spread
    for i in range(len(cams)):
        order = [s.frames[i].capture_time_ns for s in sets]
        assert order == sorted(order) and len(set(order)) == len(order), "sets out of time order"
    total = sum(len(v) for v in frames.values())
    assert len(used) + sum(sync.dropped.values()) <= total


@settings(max_examples=300, deadline=None)
@given(st.lists(times, min_size=2, max_size=3), st.integers(1 * MS, 50 * MS))
def test_each_partner_is_the_nearest_frame_the_set_order_allows(per_cam_times, max_spread):
    cams = [f"c{i}" for i in range(len(per_cam_times))]
    frames = {c: [F(c, t, i) for i, t in enumerate(ts)] for c, ts in zip(cams, per_cam_times)}
    _, sets = feed(cams, frames, max_spread)
    for k, s in enumerate(sets):
        pivot_t = s.frames[s.pivot].capture_time_ns
        for i, cam in enumerate(cams):
            lo = sets[k - 1].frames[i].capture_time_ns if k else -1
            hi = sets[k + 1].frames[i].capture_time_ns if k + 1 < len(sets) else float("inf")
            chosen = abs(s.frames[i].capture_time_ns - pivot_t)
            # Any frame of this camera that could have taken the place (between the neighbouring
            # sets, so order is kept) is no nearer to the pivot.
            assert all(abs(f.capture_time_ns - pivot_t) >= chosen
                       for f in frames[cam] if lo < f.capture_time_ns < hi)


@pytest.mark.parametrize("offset_ms", [0.0, 5.0, -12.0])
@given(jitter=st.lists(st.integers(-2 * MS, 2 * MS), min_size=90, max_size=90))
@settings(max_examples=50, deadline=None)
def test_same_source_frames_pair_at_30fps_with_small_jitter(offset_ms, jitter):
    period = 33_333_333
    frames = {"a": stream("a", 90, period, 0, [0] * 90),
              "b": stream("b", 90, period, int(offset_ms * MS), jitter)}
    _, sets = feed(["a", "b"], frames, period // 2)
    assert len(sets) >= 88
    assert all(s.frames[0].index == s.frames[1].index for s in sets)


def test_a_learnt_interval_bound_sends_a_set_out_with_its_last_frame_not_a_frame_later():
    # Two cameras at 10 fps capturing the same moments, 1 ms apart on the hub's clock.
    period = 100 * MS
    frames = {"a": stream("a", 40, period, 0, [0] * 40), "b": stream("b", 40, period, 1 * MS, [0] * 40)}
    waiting = ApproximateTimeSync(["a", "b"], 16 * MS)
    early = ApproximateTimeSync(["a", "b"], 16 * MS, interval_window=5)
    for i in range(1, 40):
        # Waiting, moment i-1's set needs a's next frame (i) to confirm b's frame was the nearest.
        assert indices(waiting.add("a", frames["a"][i - 1])) == ([(("a", i - 2), ("b", i - 2))] if i > 1 else [])
        assert waiting.add("b", frames["b"][i - 1]) == []
        # Once the bound is learnt (a's first 5 intervals), it goes out with b's frame of moment i-1.
        after_a = early.add("a", frames["a"][i - 1])
        after_b = early.add("b", frames["b"][i - 1])
        if i > 6:
            assert after_a == [] and indices(after_b) == [(("a", i - 1), ("b", i - 1))], i
    assert early.sets_emitted == waiting.sets_emitted + 1 == 39


@given(periods=st.lists(st.integers(20, 120), min_size=2, max_size=3),
       offsets=st.lists(st.integers(0, 100), min_size=3, max_size=3),
       jitter=st.lists(st.integers(-100, 100), min_size=180, max_size=180),
       max_spread_ms=st.integers(1, 50), window=st.integers(1, 30))
@settings(max_examples=200, deadline=None)
def test_a_learnt_bound_gives_the_same_sets_as_waiting_while_cameras_keep_their_rate(
        periods, offsets, jitter, max_spread_ms, window):
    # Each camera at its own rate, 20-120 ms between frames, with jitter up to an eighth of it: no
    # interval is under half another, the rate change the learnt bound allows for.
    cams = [f"c{i}" for i in range(len(periods))]
    frames = {c: stream(c, 60, p * MS, o * MS, [j * p * MS // 800 for j in jitter[60 * k:60 * (k + 1)]])
              for k, (c, p, o) in enumerate(zip(cams, periods, offsets))}
    _, waited = feed(cams, frames, max_spread_ms * MS)
    _, early = feed(cams, frames, max_spread_ms * MS, window)
    # Early sets are the waiting ones; at the end of the streams it may have sent one more.
    assert indices(early[:len(waited)]) == indices(waited)
    assert len(early) - len(waited) <= 1


def test_newest_set_from_rings_and_drop_reasons():
    a = [F("a", t * MS, i) for i, t in enumerate([0, 33, 66, 100])]
    b = [F("b", t * MS, i) for i, t in enumerate([10, 40, 71])]
    best, dropped = newest_set({"a": a, "b": b}, 16 * MS)
    assert [f.capture_time_ns // MS for f in best.frames] == [66, 71] and best.spread_ns == 5 * MS
    none, dropped = newest_set({"a": a, "b": [F("b", 500 * MS, 0)]}, 16 * MS)
    assert none is None and dropped["too_old"] + dropped["no_partner"] >= 1


def test_bad_arguments():
    with pytest.raises(ValueError):
        ApproximateTimeSync(["a"])
    with pytest.raises(ValueError):
        ApproximateTimeSync(["a", "a"])
    with pytest.raises(ValueError):
        ApproximateTimeSync(["a", "b"], interval_window=-1)
    sync = ApproximateTimeSync(["a", "b"])
    with pytest.raises(KeyError):
        sync.add("c", F("c", 0, 0))
    sync.add("a", F("a", 10, 0))
    assert sync.add("a", F("a", 5, 1)) == [] and sync.dropped["out_of_order"] == 1
