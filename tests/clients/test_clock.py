"""Offset estimation against a simulated hub clock with known offset, delays and drift."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clients.clock import ClockSync, TimeSample, estimate_from_burst

MS = 1_000_000


def exchange(local_t0, true_offset_ns, up_ns, down_ns, hub_processing_ns=50_000):
    """One exchange where the hub clock = local + true_offset, with one-way delays up/down."""
    t1 = local_t0 + up_ns + true_offset_ns
    t2 = t1 + hub_processing_ns
    t3 = local_t0 + up_ns + hub_processing_ns + down_ns
    return TimeSample(local_t0, t1, t2, t3)


def test_symmetric_path_recovers_offset_exactly():
    s = exchange(10**18, 350 * MS, 2 * MS, 2 * MS)
    assert s.offset_ns == 350 * MS and s.delay_ns == 4 * MS


@given(offset_ms=st.floats(-5000, 5000), up=st.integers(0, 20 * MS), down=st.integers(0, 20 * MS))
def test_error_never_exceeds_half_the_round_trip(offset_ms, up, down):
    true = int(offset_ms * MS)
    s = exchange(10**18, true, up, down)
    assert abs(s.offset_ns - true) <= s.delay_ns / 2 + 1


def test_burst_keeps_lowest_delay_samples_against_queuing_noise():
    rng = random.Random(4)
    true = -800 * MS
    samples = []
    for i in range(16):
        base = 100_000  # 0.1 ms loopback each way
        # Random extra queuing on one direction only: the asymmetric noise NTP's filter targets.
        up = base + rng.choice([0, 0, rng.randrange(0, 20 * MS)])
        samples.append(exchange(10**18 + i * MS, true, up, base))
    offset, uncertainty = estimate_from_burst(samples, keep=3)
    assert abs(offset - true) <= uncertainty + 1
    assert abs(offset - true) < 0.2 * MS
    naive = sum(s.offset_ns for s in samples) / len(samples)
    assert abs(naive - true) > abs(offset - true)


def test_empty_or_broken_burst_raises():
    with pytest.raises(ValueError):
        estimate_from_burst([])
    with pytest.raises(ValueError):
        estimate_from_burst([TimeSample(100, 0, 0, 50)] * 0 + [TimeSample(0, 0, 200, 100)])


def test_drift_is_tracked_and_extrapolated():
    sync = ClockSync()
    drift_ppm = 50.0  # hub clock runs 50 µs/s faster
    for k in range(6):  # a sync every 30 s
        t = 10**18 + k * 30 * 10**9
        true = 100 * MS + drift_ppm * 1e-6 * (t - 10**18)
        sync.update([exchange(t, int(true), 100_000, 100_000)])
    est = sync.estimate
    assert est.drift_ppm == pytest.approx(drift_ppm, rel=1e-3)
    later = 10**18 + 200 * 10**9
    expected = 100 * MS + drift_ppm * 1e-6 * (later - 10**18)
    assert sync.offset_at(later) == pytest.approx(expected, abs=1_000)
    assert sync.to_local_ns(sync.to_hub_ns(later)) == pytest.approx(later, abs=10)


def test_unsynced_clock_passes_times_through():
    sync = ClockSync()
    assert sync.estimate is None and sync.to_hub_ns(123) == 123
