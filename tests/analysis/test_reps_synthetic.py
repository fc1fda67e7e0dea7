"""The rep state machine on synthetic hip-height / knee-angle curves with known rep counts."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import reps
from analysis.reps import Phase, RepCounter


def squat_curve(n_reps: int, depth: float = 0.4, frames_per_rep: int = 40, stand: int = 15,
                noise: float = 0.0, seed: int = 0):
    """Hip height: standing 0.97, each rep a cosine dip to ``depth``; knee follows hip height."""
    rng = np.random.default_rng(seed)
    parts = [np.full(stand, 0.97)]
    for _ in range(n_reps):
        t = np.linspace(0, 2 * np.pi, frames_per_rep)
        parts.append(0.97 - (0.97 - depth) * (1 - np.cos(t)) / 2)
        parts.append(np.full(stand, 0.97))
    hip = np.concatenate(parts) + rng.normal(0, noise, sum(len(p) for p in parts))
    knee = 175 - (0.97 - hip) * 220  # 0.97 -> 175 deg, 0.75 -> 127 deg, 0.4 -> 50 deg
    return hip, knee


def hip_at_knee(knee: float) -> float:
    """The hip height of ``squat_curve`` where its knee angle is ``knee``."""
    return 0.97 - (175 - knee) / 220


def run(hip, knee):
    rc = RepCounter()
    done = [rc.update(i, h, k) for i, (h, k) in enumerate(zip(hip, knee))]
    return rc, [d for d in done if d is not None]


@pytest.mark.parametrize("n", [1, 3, 6])
def test_counts_clean_reps(n):
    rc, done = run(*squat_curve(n))
    assert rc.count == n == len(done)
    assert [r.index for r in done] == list(range(1, n + 1))
    assert rc.phase is Phase.TOP


def test_rep_boundaries_bracket_the_bottom():
    hip, knee = squat_curve(2, frames_per_rep=40, stand=15)
    rc, done = run(hip, knee)
    true_bottoms = [15 + 20, 15 + 40 + 15 + 20]
    for rep, true_bottom in zip(done, true_bottoms):
        assert rep.start < rep.bottom < rep.end
        assert abs(rep.bottom - true_bottom) <= 3
        # The 0.3 s median filter rounds off the tip of this 1.3 s dip by ~0.02 leg lengths.
        assert rep.min_hip_height == pytest.approx(0.4, abs=0.03)


def test_noise_around_thresholds_does_not_double_count():
    # Hover right at the bottom threshold with jitter bigger than the gap to it but smaller than
    # the hysteresis band: must count exactly the real reps.
    hip, knee = squat_curve(3, depth=hip_at_knee(reps.BOTTOM_KNEE) - 0.05, noise=0.015, seed=3)
    rc, _ = run(hip, knee)
    assert rc.count == 3


def test_shallow_dips_are_not_reps():
    hip, knee = squat_curve(2, depth=hip_at_knee(reps.BOTTOM_KNEE) + 0.03)
    rc, _ = run(hip, knee)
    assert rc.count == 0
    assert rc.aborted == 2


def test_initial_rise_from_a_squat_is_not_a_rep():
    hip, knee = squat_curve(2)
    rise = np.linspace(0.6, 0.97, 15)
    rc, _ = run(np.concatenate([rise, hip]), np.concatenate([175 - (0.97 - rise) * 220, knee]))
    assert rc.count == 2


def test_descent_seen_from_mid_height_counts_when_armed():
    hip, knee = squat_curve(1, stand=0)
    start = np.argmax(hip < 0.78)  # the pose becomes valid mid-descent, below TOP_HIP
    rc, _ = run(hip[start:], knee[start:])
    assert rc.count == 1


def test_stream_starting_in_the_bottom_is_not_a_rep():
    hip, knee = squat_curve(1, stand=0)
    rc, _ = run(hip[20:], knee[20:])  # starts at the bottom, rises, stands
    assert rc.count == 0


def test_invalid_samples_are_skipped():
    hip, knee = squat_curve(2)
    hip = hip.copy()
    hip[30] = np.nan
    hip[31] = -0.9  # ankles above hips: a broken detection
    rc, _ = run(hip, knee)
    assert rc.count == 2


def test_standing_up_out_of_the_top_of_the_frame_completes_the_rep():
    """The pose is lost the moment the athlete stands (a camera cutting off the head): the filter has
    not caught up, so only the rise out of view can end the rep; any other loss changes nothing."""
    hip, knee = squat_curve(1, stand=0)
    cut = int(np.argmax((knee > 160) & (np.arange(len(knee)) > np.argmin(knee))))  # first standing frame
    for rose, expected in ((False, 0), (True, 1)):
        rc, _ = run(hip[:cut + 1], knee[:cut + 1])
        assert rc.count == 0 and rc.in_rep
        done = rc.lost(rose_out_of_view=rose)
        assert rc.count == expected and (done is not None) == bool(expected)
