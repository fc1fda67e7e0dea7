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
DEFAULT_REFERENCES: dict[str, tuple[str, str]] = {
    "side": (DEFAULT_REFERENCE_NAME, "side_barbell_rohanx01.mp4"),
    "front": ("default-front", "front_barbell_gymvision.mp4"),
    "oblique": ("default-oblique", "oblique_bodyweight_intellifit2.mp4"),
}
"""view -> (reference name, clip under ``squat_dir()``): the answer sheets built when a library has
none of its own. Side: a barbell back squat to about parallel (2 reps); front: a barbell squat
below parallel (3 reps); oblique: a bodyweight squat below parallel (5 reps). Each is the deepest
squat of its view among the rep-labelled clips of ``squat_dir()`` (PROVENANCE.md); the
form-labelled clips under ``labelled/`` are kept for evaluation only."""
DEFAULT_REFERENCE_CLIP = DEFAULT_REFERENCES["side"][1]
