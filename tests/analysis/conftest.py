"""Fixtures for the analysis tests: real poses of the shared clips, extracted once per session."""

from __future__ import annotations

import pytest

from analysis.paths import DEFAULT_REFERENCE_CLIP, squat_dir


def _require_footage():
    if not squat_dir().exists():
        pytest.skip(f"shared footage not found at {squat_dir()} (set FORMSYNC_DATA_DIR)")


@pytest.fixture(scope="session")
def clip_poses():
    """``get(file) -> (fps, [PoseFrame | None, ...])``: MediaPipe poses of every frame of a clip,
    computed with the analyzer's own estimator settings and cached for the session."""
    _require_footage()
    from analysis.pose import PoseEstimator
    from analysis.session import DEFAULT_MAX_WIDTH
    from analysis.video import frames, probe

    cache: dict[str, tuple[float, list]] = {}

    def get(file: str):
        if file not in cache:
            path = squat_dir() / file
            with PoseEstimator(max_width=DEFAULT_MAX_WIDTH) as est:
                poses = [est.estimate(frame) for frame, _, _ in frames(path)]
            cache[file] = (probe(path).fps, poses)
        return cache[file]

    return get


@pytest.fixture(scope="session")
def reference_library(tmp_path_factory):
    """A fresh library holding the default reference, built from the video by the real path."""
    _require_footage()
    from analysis.reference import ReferenceLibrary

    lib = ReferenceLibrary(tmp_path_factory.mktemp("references"))
    lib.build_default()
    return lib


@pytest.fixture(scope="session")
def default_reference(reference_library):
    return reference_library.load_default()


def replay(analyzer, fps: float, poses):
    """Feed cached poses through ``analyzer.update`` as the live path would (seq, capture time)."""
    return [analyzer.update(p, seq, int(round(seq * 1e9 / fps))) for seq, p in enumerate(poses)]


__all__ = ["replay", "DEFAULT_REFERENCE_CLIP"]
