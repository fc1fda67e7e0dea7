import pytest

from clients.pacing import FileSchedule, RateLimiter


def test_file_at_its_own_fps_shows_every_frame_in_real_time():
    s = FileSchedule(30.0)
    assert [s.source_index(k) for k in range(5)] == [0, 1, 2, 3, 4]
    assert s.emit_time(30) == pytest.approx(1.0)


def test_lower_target_picks_the_frame_shown_at_each_instant():
    s = FileSchedule(30.0, 15.0)
    assert [s.source_index(k) for k in range(4)] == [0, 2, 4, 6]
    s = FileSchedule(25.0, 10.0)
    assert [s.source_index(k) for k in range(4)] == [0, 2, 5, 7]  # 0, 0.1, 0.2, 0.3 s at 25 fps


def test_target_never_exceeds_source():
    assert FileSchedule(25.0, 60.0).fps == 25.0


def test_catch_up_skips_instead_of_slowing_down():
    s = FileSchedule(30.0)
    assert s.catch_up(5, 5 / 30 + 0.01) == 5  # on time
    assert s.catch_up(5, 10 / 30 + 0.001) == 10  # five periods late: jump to now


def test_bad_rates_raise():
    with pytest.raises(ValueError):
        FileSchedule(0)
    with pytest.raises(ValueError):
        RateLimiter(-1)


def test_rate_limiter_thins_a_60hz_device_to_30fps():
    limiter = RateLimiter(30.0)
    emitted = sum(limiter.should_emit(i / 60) for i in range(600))  # 10 s at 60 Hz
    assert 295 <= emitted <= 301


def test_rate_limiter_passes_a_slower_device_untouched_and_survives_stalls():
    limiter = RateLimiter(30.0)
    times = [i / 20 for i in range(20)] + [5.0 + i / 20 for i in range(20)]  # 20 Hz with a 4 s stall
    assert all(limiter.should_emit(t) for t in times)
