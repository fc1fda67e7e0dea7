"""Where one set ends and the next begins, for one camera.

A set is a run of reps without a long pause. ``SetTracker`` closes it when
    rest            no rep in progress and none completed for ``rest_s`` of capture time
                    (default 10 s: longer than the pause between reps of one set, a few seconds,
                    and far shorter than the 1-3 min rest between sets of the ACSM position stand,
                    Med Sci Sports Exerc 2009;41(3):687-708);
    source_restart  the camera's source frame index went backwards (a replayed clip started over,
                    or the camera was restarted);
    camera_stale    the hub reported the camera stale;
    worker_stopped  the analysis worker is shutting down (or handing the camera over);
    worker_lost     closed by the hub: the worker died and another took the camera over
                    (``server/leases.py``); or by the worker, which could not reach the hub
                    for a whole lease lifetime (``analysis/leases.py``).
A set without a completed rep is never reported.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from formsync.wire.analysis import Fault, FaultMoment
from formsync.wire.sets import SetFault, SetIn, SetRep

DEFAULT_REST_S = 10.0
END_REASONS = ("rest", "source_restart", "camera_stale", "worker_stopped", "worker_lost")


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class SetTracker:
    """Set boundaries of one camera. Driven from that camera's analysis thread only."""

    camera_id: str
    rest_s: float = DEFAULT_REST_S
    set_id: str = field(default_factory=_new_id)
    last_active_ns: int | None = None
    last_source: int | None = None

    def source_restarted(self, source_frame: int | None) -> bool:
        """Record ``source_frame``; True if it went backwards since the last call."""
        restarted = source_frame is not None and self.last_source is not None and source_frame < self.last_source
        if source_frame is not None:
            self.last_source = source_frame
        return restarted

    def rest_elapsed(self, capture_time_ns: int, rep_count: int, in_rep: bool, rep_completed: bool) -> bool:
        """Record one analysed frame; True when the set (with at least one rep) has rested ``rest_s``."""
        if in_rep or rep_completed or self.last_active_ns is None:
            self.last_active_ns = capture_time_ns
            return False
        return rep_count > 0 and capture_time_ns - self.last_active_ns >= self.rest_s * 1e9

    def next_set(self) -> None:
        self.set_id = _new_id()
        self.last_active_ns = None


# analysis.faults grades minor/major; the hub's wire format uses the alert levels of the console.
SEVERITY = {"minor": "warning", "major": "critical"}
VIEWS = {"front", "side", "oblique"}


def _moment_to_wire(m: dict) -> FaultMoment:
    return FaultMoment(start_time_ns=int(m["start_time_ns"]), end_time_ns=int(m["end_time_ns"]),
                       peak_seq=int(m["peak_seq"]), phase=m["phase"])


def fault_to_wire(f: dict, with_detail: bool = False) -> Fault:
    """``faults.Fault.to_dict()`` -> the wire's ``Fault`` (``SetFault`` with ``with_detail``).
    Raises ``pydantic.ValidationError`` for a value the contract does not allow."""
    fields = {"code": f["name"], "severity": SEVERITY.get(f.get("severity"), "info"),
              "cue": str(f.get("cue", ""))[:200], "view": f.get("view"), "value": f.get("value"),
              "confidence": f.get("confidence"),
              "moments": [_moment_to_wire(m) for m in f.get("moments", ())][:16]}
    if not with_detail:
        return Fault(**fields)
    return SetFault(**fields, threshold=f.get("threshold"), unit=f.get("unit"), rep=int(f.get("rep", 0)),
                    reference_value=f.get("reference_value"))


def _rep_to_wire(r: dict) -> SetRep:
    dev = r.get("deviation") or {}
    return SetRep(
        rep=r["rep"], start_seq=r["start_seq"], bottom_seq=r["bottom_seq"], end_seq=r["end_seq"],
        start_time_ns=r.get("start_time_ns"), end_time_ns=r.get("end_time_ns"),
        duration_s=r.get("duration_s"), min_knee_deg=r.get("min_knee_deg"),
        min_hip_height=r.get("min_hip_height"), score=r.get("score"),
        reference=r.get("reference"), reference_hash=r.get("reference_hash"), criteria=r.get("criteria") or {},
        deviation_deg=dev.get("deviation_deg"), bottom_deviation_deg=dev.get("bottom_deviation_deg"),
        faults=[fault_to_wire(f, True) for f in r.get("faults", [])],
        view=r.get("view") if r.get("view") in VIEWS else "unknown",
    )


def set_to_wire(tracker: SetTracker, summary: dict, *, status: str, end_reason: str | None,
                ended_at_ns: int, reference: str | None, reference_hash: str | None = None) -> SetIn:
    """The camera's ``SetIn`` from ``PoseAnalyzer.summary()``. Times are capture times (hub clock,
    ns); the set starts where its first rep starts; reference / reference_hash: the chosen
    reference (each rep names the one it was scored against). Raises ``pydantic.ValidationError``
    for a value the contract does not allow."""
    reps = [_rep_to_wire(r) for r in summary["reps_detail"]]
    started = reps[0].start_time_ns if reps and reps[0].start_time_ns is not None else ended_at_ns
    return SetIn(
        set_id=tracker.set_id, status=status, end_reason=end_reason,
        started_at_ns=int(started), ended_at_ns=int(max(ended_at_ns, started)),
        reference=reference, reference_hash=reference_hash,
        view=summary.get("view") if summary.get("view") in VIEWS else "unknown",
        reps=len(reps), mean_score=summary.get("mean_score"),
        reps_detail=reps,
        faults=[f for r in reps for f in r.faults],
        gaze=summary.get("gaze"),  # analysis.combined: the set's GazeSetOut fields, None with gaze off
    )
