from __future__ import annotations

import os
import tempfile

import cv2
import numpy as np
import pytest

from tests.support import SQUAT_DIR, RunningHub, jpeg, read_clip, squat_clip  # noqa: F401  (re-exported for tests)


def pytest_configure(config):
    # Tests build the default reference where they cannot touch a developer's own library.
    os.environ.setdefault("FORMSYNC_REFERENCE_DIR", tempfile.mkdtemp(prefix="formsync-references-"))
    # Workers spool unsent sets (analysis/set_outbox.py) in a temporary folder too.
    os.environ.setdefault("FORMSYNC_WORKER_SPOOL_DIR", tempfile.mkdtemp(prefix="formsync-worker-sets-"))


_REPLAYED = pytest.StashKey[list]()


def pytest_collection_finish(session):
    from tests.clip_usage import clips_replayed_by

    session.config.stash[_REPLAYED] = clips_replayed_by(session.items) if SQUAT_DIR.exists() else []


@pytest.fixture(scope="session", autouse=True)
def default_references(pytestconfig):
    """The default reference of every view, built once per session into the session's library, so
    that no worker process started by a test spends its first frames building them. Poses come
    from the pose cache (var/pose-cache), so only the first session on a machine runs MediaPipe:
    then on every core, for the references' clips and those the collected tests replay."""
    from analysis import pose_cache
    from analysis.paths import DEFAULT_REFERENCES, squat_dir
    from analysis.reference import ReferenceLibrary
    from analysis.session import DEFAULT_MAX_WIDTH

    if squat_dir().exists():
        references = [squat_dir() / file for _, file in DEFAULT_REFERENCES.values()]
        pose_cache.warm([*references, *pytestconfig.stash.get(_REPLAYED, [])], DEFAULT_MAX_WIDTH)
        ReferenceLibrary().ensure_defaults()


@pytest.fixture(scope="session")
def reference_bundles(default_references) -> dict[str, bytes]:
    """Bundles (``formsync.reference_bundle``) of the session's default references, by name, as a
    worker uploads them. Skips without the shared footage."""
    from analysis.paths import DEFAULT_REFERENCES, squat_dir
    from analysis.reference import ReferenceLibrary
    from formsync.reference_bundle import pack_folder

    if not squat_dir().exists():
        pytest.skip(f"shared footage not found at {squat_dir()}")
    lib = ReferenceLibrary()
    return {name: pack_folder(lib.path(name)) for name, _ in DEFAULT_REFERENCES.values()}


@pytest.fixture(scope="session")
def redis_server():
    """One real redis-server for the session (tests/redis_server.py); tests flush what they use.
    Skips where redis-server is not installed."""
    from tests.redis_server import RedisServer

    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server) -> str:
    """The session's Redis, emptied before the test."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture
def hub():
    """A real hub on a free loopback port, stopped after the test."""
    with RunningHub() as running:
        yield running


@pytest.fixture(scope="session")
def clip_jpegs() -> list[bytes]:
    """A few real JPEG frames (640 px wide) cut from a squat clip."""
    return [jpeg(image) for image in read_clip("front_barbell_gymvision.mp4", 10)]


def synthetic_jpeg(value: int = 0, size=(48, 64)) -> bytes:
    """A small solid-colour JPEG; ``value`` sets the grey level so frames can be told apart."""
    img = np.full((*size, 3), value % 256, np.uint8)
    return cv2.imencode(".jpg", img)[1].tobytes()
