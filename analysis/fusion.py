"""Multi-camera fault fusion: one verdict per check, from the camera whose view suits it.

Each camera's worker runs only the checks its view supports, each with a confidence
(``check_views.CHECK_VIEWS``: knee tracking and weight shift need a front view; depth and trunk lean
are trusted from the side or at an angle and read with low confidence from the front; heel rise is
trusted from the side). When several cameras film the same rep, their reps are matched by time,
and the fused rep takes each check from a camera that could run it, from the cameras that run it
with high confidence when there are any: a low-confidence flag is dropped when a camera that sees
the check clearly did not raise it. A check no camera could run is reported as unavailable, so the
user learns which camera to add.

Reps are matched by the hub's own synchroniser (``formsync.synchronizer.ApproximateTimeSync``, the
ROS ApproximateTime policy that cuts the synchronised frame sets), fed with each rep's midpoint
capture time (hub clock, clock offsets applied): each rep is used at most once, matches come in
time order, each the smallest span available, none wider than ``MAX_MIDPOINT_SPREAD_NS``. Like a
synchronised set, a match needs every camera that counted reps; a rep that not all of them saw
stays on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from analysis.check_views import CHECK_VIEWS as _VIEWS
from formsync.synchronizer import ApproximateTimeSync

MAX_MIDPOINT_SPREAD_NS = 750_000_000
"""Half the shortest squat rep (~1.5 s): the same rep seen by two cameras differs by segmentation
jitter (start/end detected a few frames apart) plus clock offset error (a few ms, bench/sync.py),
far below this; the neighbouring rep's midpoint is at least a whole rep away."""

CHECK_VIEWS: dict[str, frozenset[str]] = {name: frozenset(views) for name, views in _VIEWS.items()}
CHECK_CONFIDENCE: dict[str, dict[str, str]] = {name: dict(views) for name, views in _VIEWS.items()}
_ORDER = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class FusedRep:
    """One rep as seen by one or more cameras.

    start_ns/end_ns: the union of the matched reps' capture-time intervals (hub clock, ns);
    reps: camera id -> that camera's rep (a ``SetRep`` dict); faults: (camera id, fault dict),
    at most one per check, most severe first; unavailable: checks that no matched camera's view
    supports.
    """

    start_ns: int
    end_ns: int
    reps: dict[str, dict]
    faults: list[tuple[str, dict]] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _TimedRep:
    camera_id: str
    rep: dict
    capture_time_ns: int  # the rep's midpoint, what the synchroniser matches on


def match_reps(sets: Mapping[str, Sequence[dict]]) -> list[dict[str, dict]]:
    """Group reps of different cameras that are the same rep. ``sets``: camera id -> its reps
    (``SetRep`` dicts with ``start_time_ns``/``end_time_ns``; reps without times are skipped).
    Returns groups (camera id -> rep) in time order; each camera appears at most once per group."""
    items = sorted((_TimedRep(cam, r, (r["start_time_ns"] + r["end_time_ns"]) // 2)
                    for cam, reps in sets.items() for r in reps
                    if r.get("start_time_ns") is not None and r.get("end_time_ns") is not None),
                   key=lambda x: x.capture_time_ns)
    cameras = sorted({i.camera_id for i in items})
    matched: list[tuple[_TimedRep, ...]] = []
    if len(cameras) >= 2:
        sync = ApproximateTimeSync(cameras, MAX_MIDPOINT_SPREAD_NS, queue_size=len(items) + 1)
        # The synchroniser holds a set back until every camera has a later item (one might still
        # fit better); past the newest rep nothing will come, so a final item per camera, beyond
        # reach of every real one, releases them.
        end = items[-1].capture_time_ns + 2 * MAX_MIDPOINT_SPREAD_NS
        for item in [*items, *(_TimedRep(cam, {}, end) for cam in cameras)]:
            matched += [s.frames for s in sync.add(item.camera_id, item) if s.frames[0].capture_time_ns != end]
    used = {id(i) for group in matched for i in group}
    groups = matched + [(i,) for i in items if id(i) not in used]
    groups.sort(key=lambda g: min(i.capture_time_ns for i in g))
    return [{i.camera_id: i.rep for i in g} for g in groups]


def fuse(sets: Mapping[str, Sequence[dict]]) -> list[FusedRep]:
    """``match_reps`` then, per group, one verdict per check from a camera whose view supports it."""
    fused = []
    for members in match_reps(sets):
        views = {cam: rep.get("view", "unknown") for cam, rep in members.items()}
        clear = {code: {cam for cam, v in views.items() if conf.get(v) == "high"}
                 for code, conf in CHECK_CONFIDENCE.items()}
        faults: dict[str, tuple[str, dict]] = {}
        for cam, rep in members.items():
            for f in rep.get("faults", []):
                code = f["code"]
                if views[cam] not in CHECK_VIEWS.get(code, frozenset({views[cam]})):
                    continue  # a check run from an unsuitable view is not trusted
                if clear.get(code) and cam not in clear[code]:
                    continue  # another camera sees this check clearly and did not raise it
                have = faults.get(code)
                if have is None or _ORDER.get(f["severity"], 3) < _ORDER.get(have[1]["severity"], 3):
                    faults[code] = (cam, f)
        unavailable = [name for name, allowed in CHECK_VIEWS.items() if not allowed & set(views.values())]
        fused.append(FusedRep(
            min(r["start_time_ns"] for r in members.values()), max(r["end_time_ns"] for r in members.values()),
            dict(members), sorted(faults.values(), key=lambda cf: _ORDER.get(cf[1]["severity"], 3)), unavailable))
    return fused
