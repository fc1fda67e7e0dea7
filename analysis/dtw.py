"""Dynamic time warping of multichannel sequences (joint-angle curves of two reps).

Backed by ``dtaidistance`` (2.5.1, Apache-2.0, maintained by DTAI/KU Leuven): its C implementation
of multi-dimensional DTW (``dtw_ndim.warping_paths(..., use_c=True)``) returns the optimal warping
path directly. It was chosen
over tslearn (pulls in scikit-learn and numba for the same result) and over a hand-written numpy
O(n*m) loop (simple, but one more algorithm for us to test and keep fast in the live worker).

Cost between samples is the squared Euclidean distance of the feature vectors (dtaidistance's
``dtw_ndim`` convention); ``distance`` is the square root of the summed cost along the path, so
its unit is that of the features (degrees for angle curves).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dtaidistance import dtw_ndim


@dataclass(frozen=True)
class Alignment:
    """Result of aligning ``a`` (n, k) with ``b`` (m, k).

    path: (L, 2) int array of matched index pairs (i into a, j into b), monotone, from (0, 0) to
        (n-1, m-1); max(n, m) <= L <= n + m - 1.
    distance: DTW distance (see module doc), >= 0.
    """

    path: np.ndarray
    distance: float

    def matches_of(self, i: int) -> np.ndarray:
        """Indices into ``b`` matched to sample ``i`` of ``a``."""
        return self.path[self.path[:, 0] == i, 1]


def _as_series(x: np.ndarray) -> np.ndarray:
    arr = np.ascontiguousarray(np.asarray(x, dtype=np.double))
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or len(arr) == 0:
        raise ValueError(f"expected a non-empty (n, k) sequence, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("sequence contains NaN or inf; interpolate missing samples first")
    return arr


def align(a: np.ndarray, b: np.ndarray, window: int | None = None) -> Alignment:
    """Optimal DTW alignment of two sequences of shape (n, k) and (m, k) (or 1-D (n,), (m,)).

    Args:
        window: optional Sakoe-Chiba band half-width in samples (None = unconstrained).
    Raises:
        ValueError: empty sequences, differing feature counts, or non-finite values.
    """
    a, b = _as_series(a), _as_series(b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature counts differ: {a.shape[1]} vs {b.shape[1]}")
    # use_c: dtaidistance's default for warping_paths is its pure-Python loop (~70 ms for two 80-frame
    # reps); the C one is ~200 times faster and gives the same paths.
    kwargs = {"use_c": True} if window is None else {"use_c": True, "window": int(window)}
    distance, paths = dtw_ndim.warping_paths(a, b, **kwargs)
    from dtaidistance.dtw import best_path

    path = np.asarray(best_path(paths), dtype=int)
    return Alignment(path=path, distance=float(distance))


def fill_gaps(x: np.ndarray) -> np.ndarray:
    """Linearly interpolate NaN samples of each column of (n, k) ``x`` (edges take the nearest value).

    Raises ValueError if a column is all NaN.
    """
    arr = np.array(x, dtype=np.double, copy=True)
    if arr.ndim == 1:
        arr = arr[:, None]
    idx = np.arange(len(arr))
    for c in range(arr.shape[1]):
        ok = np.isfinite(arr[:, c])
        if not ok.any():
            raise ValueError(f"column {c} has no finite values")
        arr[~ok, c] = np.interp(idx[~ok], idx[ok], arr[ok, c])
    return arr
