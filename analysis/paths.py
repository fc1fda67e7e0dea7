"""Where the analysis finds footage and keeps its reference library.

FORMSYNC_DATA_DIR    shared footage root (default ``<repo>/../shared/data``); clips in ``squat/``.
FORMSYNC_REFERENCE_DIR  reference library (default ``<repo>/var/references``; var/ is git-ignored).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    return Path(os.environ.get("FORMSYNC_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))


def squat_dir() -> Path:
    return data_dir() / "squat"


def reference_dir() -> Path:
    return Path(os.environ.get("FORMSYNC_REFERENCE_DIR", REPO_ROOT / "var" / "references"))


DEFAULT_REFERENCE_NAME = "default"
DEFAULT_REFERENCE_CLIP = "side_bodyweight_intellifit1.mp4"
"""Side view, bodyweight, plain studio, 2 clean reps: the default answer sheet."""
