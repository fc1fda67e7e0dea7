"""The pose cache filled on several processes holds what one process extracts, and is not refilled."""

from __future__ import annotations

import numpy as np

from analysis import pose_cache
from analysis.evaluation.dataset import clip
from tests.analysis.conftest import _require_footage


def test_warming_on_two_processes_caches_each_clip_once_as_extracted_here(tmp_path, monkeypatch):
    _require_footage()
    monkeypatch.setenv("FORMSYNC_POSE_CACHE", str(tmp_path))
    short = [clip("fitai_correct_3").path, clip("fitai_incorrect_3").path]
    assert pose_cache.warm([*short, short[0]], 640, jobs=2) == 2
    assert len(list(tmp_path.glob("*.npz"))) == 2
    assert pose_cache.warm(short, 640, jobs=2) == 0
    here = pose_cache.extract(short[1], 640)
    there = pose_cache.cached(short[1], 640)
    assert there.fps == here.fps and len(there) == len(here)
    assert [p is None for p in there.poses] == [p is None for p in here.poses]
    found = [(a, b) for a, b in zip(there.poses, here.poses) if a is not None]
    assert found and all(np.allclose(a.landmarks, b.landmarks, atol=1e-5) for a, b in found)
    assert all(a.image_size == b.image_size for a, b in found)
