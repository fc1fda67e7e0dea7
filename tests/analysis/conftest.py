"""Fixtures for the analysis tests: real poses of the shared clips, extracted once per session."""

from __future__ import annotations

import pytest

from analysis.paths import DEFAULT_REFERENCE_CLIP, squat_dir


def _require_footage():
    if not squat_dir().exists():
        pytest.skip(f"shared footage not found at {squat_dir()} (set FORMSYNC_DATA_DIR)")


@pytest.fixture(scope="session")
def clip_poses():
    """``get(file) -> (fps, [PoseFrame | None, ...])``: MediaPipe poses of every frame of a clip
    (path relative to the squat folder), computed with the analyzer's own estimator settings
    through the pose cache (``analysis.pose_cache``: real inference the first time on a machine)."""
    _require_footage()
    from analysis.pose_cache import clip_poses as cached
    from analysis.session import DEFAULT_MAX_WIDTH

    memo: dict[str, tuple[float, list]] = {}

    def get(file: str):
        if file not in memo:
            poses = cached(squat_dir() / file, DEFAULT_MAX_WIDTH)
            memo[file] = (poses.fps, poses.poses)
        return memo[file]

    return get


@pytest.fixture(scope="session")
def reference_library(tmp_path_factory):
    """A fresh library holding the default reference of each view, built by the real path."""
    _require_footage()
    from analysis.reference import ReferenceLibrary

    lib = ReferenceLibrary(tmp_path_factory.mktemp("references"))
    lib.build_default()
    return lib


@pytest.fixture(scope="session")
def default_reference(reference_library):
    from analysis.paths import DEFAULT_REFERENCE_NAME

    return reference_library.load(DEFAULT_REFERENCE_NAME)


@pytest.fixture(scope="session")
def references(reference_library):
    """The default reference with the library's reference of each view (``ReferenceSet``)."""
    return reference_library.reference_set()


def replay(analyzer, fps: float, poses):
    """Feed cached poses through ``analyzer.update`` as the live path would (seq, capture time)."""
    return [analyzer.update(p, seq, int(round(seq * 1e9 / fps))) for seq, p in enumerate(poses)]


class NoInference:
    """Estimator stand-in: poses come from the caller, so inference must never be asked for."""

    def estimate(self, frame):
        raise AssertionError("inference should not run here")


def reference_from_poses(name: str, source: str, fps: float, poses):
    """A reference held in memory from already estimated poses, one per frame (seq = position,
    time = seq / fps): what ``ReferenceLibrary.build`` makes of a video, without its pictures."""
    from analysis.reference import from_analyzer
    from analysis.session import PoseAnalyzer

    analyzer = PoseAnalyzer(f"reference:{name}", history_frames=None, estimator=NoInference())
    replay(analyzer, fps, poses)
    return from_analyzer(name, source, fps, analyzer)


__all__ = ["replay", "reference_from_poses", "NoInference", "DEFAULT_REFERENCE_CLIP"]
