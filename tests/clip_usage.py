"""The footage whose poses the collected tests replay from the pose cache (``analysis.pose_cache``),
so that a session with a cold cache extracts them up front on every core instead of one clip at a
time as tests ask."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

_QUOTED = re.compile(r"""["']([\w.-]+)["']""")
_USES_CACHE = ("clip_poses", "pose_cache")


def clips_replayed_by(items) -> list[Path]:
    """Clips of the answer key (``analysis/evaluation/annotations.json``) named by the tests among
    ``items`` that read cached poses: in their parameters or as literals in their source."""
    from analysis.evaluation.dataset import load_clips

    by_name: dict[str, Path] = {}
    for c in load_clips():
        by_name.update({c.name: c.path, c.file: c.path, Path(c.file).name: c.path})
    wanted: dict[Path, None] = {}
    for item in items:
        function = getattr(item, "function", None)
        if function is None:
            continue
        source = inspect.getsource(function)
        if not any(word in source for word in _USES_CACHE):  # the fixture's name is in the signature
            continue
        params = getattr(getattr(item, "callspec", None), "params", {}).values()
        names = [getattr(v, "file", v) for v in params] + _QUOTED.findall(source)
        wanted.update((by_name[n], None) for n in names if isinstance(n, str) and n in by_name)
    return list(wanted)
