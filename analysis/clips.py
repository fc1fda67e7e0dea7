"""The labelled squat clips in ../shared/data/squat and their rep counts.

``labelled``: the count given with the footage (PROVENANCE.md / the task brief; for WorkoutTracker
clips, the number of ``label == 1.0`` markers in the clip's .labels.csv).
``visible``: completed reps seen by eye on contact sheets (a rep = descent from standing, bottom,
return to standing). The two differ on four WorkoutTracker clips because their markers sit on rep
*onsets* (the standing frame before a descent), including onsets of reps the clip cuts off:
    squat_7:  starts in the bottom, rises, then stands (marker at frame 50): 0 complete reps.
    squat_11: one rep (frames ~20-102), marker 115 is on the standing person at the end: 1.
    squat_17: starts rising out of a squat (like intellifit1), one full rep 37-81, marker 101
              while standing: 1.
    squat_18: one full rep (8-41), then a descent cut off by the clip end (marker 77): 1.
The rep counter is held to ``visible``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from analysis.paths import squat_dir


@dataclass(frozen=True)
class LabelledClip:
    file: str
    labelled: int
    visible: int

    @property
    def path(self) -> Path:
        return squat_dir() / self.file

    def label_markers(self) -> list[int] | None:
        """Frames marked 1.0 in the clip's .labels.csv, or None if it has none."""
        csv_path = self.path.with_suffix(".labels.csv")
        if not csv_path.exists():
            return None
        with csv_path.open() as fh:
            return [int(r["frame"]) for r in csv.DictReader(fh) if float(r["label"]) == 1.0]


CLIPS: tuple[LabelledClip, ...] = (
    LabelledClip("side_barbell_rohanx01.mp4", 2, 2),
    LabelledClip("side_bodyweight_intellifit1.mp4", 2, 2),
    LabelledClip("oblique_bodyweight_intellifit2.mp4", 5, 5),
    LabelledClip("front_barbell_gymvision.mp4", 3, 3),
    LabelledClip("front_barbell_liftcheck.mp4", 1, 1),
    LabelledClip("workouttracker_squat_7.mp4", 1, 0),
    LabelledClip("workouttracker_squat_8.mp4", 1, 1),
    LabelledClip("workouttracker_squat_9.mp4", 1, 1),
    LabelledClip("workouttracker_squat_11.mp4", 2, 1),
    LabelledClip("workouttracker_squat_12.mp4", 1, 1),
    LabelledClip("workouttracker_squat_17.mp4", 2, 1),
    LabelledClip("workouttracker_squat_18.mp4", 2, 1),
)
