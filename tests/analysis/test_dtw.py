"""DTW wrapper on sequences with known alignments."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.dtw import align, fill_gaps


def test_time_stretched_copy_aligns_with_zero_distance():
    a = np.array([0, 1, 2, 3, 2, 1, 0], float)
    b = np.repeat(a, 2)  # same shape, twice as slow
    al = align(a, b)
    assert al.distance == pytest.approx(0.0)
    assert all(b[j] == a[i] for i, j in al.path)
    assert tuple(al.path[0]) == (0, 0) and tuple(al.path[-1]) == (len(a) - 1, len(b) - 1)
    assert np.all(np.diff(al.path, axis=0) >= 0)
    assert set(al.matches_of(3)) == {6, 7}


def test_known_distance_and_path():
    # The only mismatch is 1 vs 2 in the middle; DTW cannot avoid it: distance sqrt(1) = 1.
    al = align([0, 1, 0], [0, 2, 0])
    assert al.distance == pytest.approx(1.0)
    assert al.path.tolist() == [[0, 0], [1, 1], [2, 2]]


def test_multichannel_matches_per_channel_shift():
    t = np.linspace(0, 2 * np.pi, 50)
    a = np.stack([np.cos(t), np.sin(t)], axis=1)
    b = np.stack([np.cos(t ** 1.2 / (2 * np.pi) ** 0.2), np.sin(t ** 1.2 / (2 * np.pi) ** 0.2)], axis=1)
    aligned = align(a, b)
    unaligned = np.sqrt(((a - b) ** 2).sum())
    assert aligned.distance < unaligned / 3


def test_errors():
    with pytest.raises(ValueError):
        align(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError):
        align([0, np.nan], [0, 1])
    with pytest.raises(ValueError):
        align(np.zeros((0, 2)), np.zeros((3, 2)))


def test_fill_gaps_interpolates():
    out = fill_gaps(np.array([[1.0], [np.nan], [3.0], [np.nan]]))
    assert out[:, 0].tolist() == [1.0, 2.0, 3.0, 3.0]
    with pytest.raises(ValueError):
        fill_gaps(np.array([[np.nan], [np.nan]]))
