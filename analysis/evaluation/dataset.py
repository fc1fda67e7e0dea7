"""The labelled clips the evaluation runs on, and what each of their reps should be.

The answer key is ``annotations.json`` beside this module (its ``_about`` says how every field was
set). Footage is read from ``paths.squat_dir()`` (``$FORMSYNC_DATA_DIR/squat``), never copied.

Per rep the key gives, for every fault name, one of three truths: present, absent or unknown (the
clip cannot judge it). A clip's labels hold for every rep it contains: the sources label whole clips,
and every multi-rep clip was checked by eye to be uniform.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from analysis.paths import squat_dir

ANNOTATIONS = Path(__file__).with_name("annotations.json")
SPLITS = ("dev", "test")
ALL = "all"
UNKNOWN_ALL = "*"


@dataclass(frozen=True)
class LabelledClip:
    """One clip of the answer key. ``file`` is relative to ``squat_dir()``."""

    file: str
    reps: int
    view: str | None
    faults: frozenset[str]
    unknown: frozenset[str]
    studied: frozenset[str]
    split: str
    note: str = ""
    source_label: str = ""

    @property
    def path(self) -> Path:
        return squat_dir() / self.file

    @property
    def name(self) -> str:
        return Path(self.file).stem

    @property
    def form_labelled(self) -> bool:
        """False for clips labelled for rep counting only (no form truth at all)."""
        return UNKNOWN_ALL not in self.unknown

    def truth(self, fault: str) -> bool | None:
        """True / False if every rep of the clip has / lacks ``fault``; None if the clip cannot tell."""
        if not self.form_labelled or fault in self.unknown:
            return None
        return fault in self.faults

    @property
    def rep_class(self) -> str | None:
        """``"faulty"`` (a labelled fault), ``"clean"`` (none, and no studied label), or None
        (counting-only clip, or only a studied label such as the dated knee-ahead cue)."""
        if not self.form_labelled:
            return None
        if self.faults:
            return "faulty"
        return None if self.studied else "clean"


@cache
def load_clips(path: Path = ANNOTATIONS) -> tuple[LabelledClip, ...]:
    """Every clip of the answer key, in file order. Raises FileNotFoundError / ValueError for a
    missing or malformed key."""
    data = json.loads(Path(path).read_text())
    out = []
    for file, c in data["clips"].items():
        if c.get("split") not in SPLITS:
            raise ValueError(f"{file}: split must be one of {SPLITS}, got {c.get('split')!r}")
        out.append(LabelledClip(file, int(c["reps"]), c.get("view"), frozenset(c.get("faults", ())),
                                frozenset(c.get("unknown", ())), frozenset(c.get("studied", ())), c["split"],
                                c.get("note", ""), c.get("source_label", "")))
    return tuple(out)


def clips_in(split: str = ALL) -> tuple[LabelledClip, ...]:
    """Clips of ``"dev"``, ``"test"`` or ``"all"``. Raises ValueError for another name."""
    if split not in (*SPLITS, ALL):
        raise ValueError(f"unknown split {split!r}: expected one of {(*SPLITS, ALL)}")
    return tuple(c for c in load_clips() if split == ALL or c.split == split)


def clip(name: str) -> LabelledClip:
    """The clip whose file stem or relative path is ``name``. Raises KeyError if there is none."""
    for c in load_clips():
        if name in (c.file, c.name, Path(c.file).name):
            return c
    raise KeyError(name)
