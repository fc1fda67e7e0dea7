"""Scores (0-100): how close a frame is to the reference, and how good a whole rep is.

Rep score (``rep_score``): the weighted mean of one term per form criterion the rep's view can
judge and one term for its similarity to the reference of the same view,
    score = 100 * (W_SIMILARITY * similarity / 100 + sum_c criterion_c) / (W_SIMILARITY + n_criteria)
    criterion_c = clip(1 - (value_c - minor_c) / (bad_c - minor_c), 0, 1),
        bad_c = major_c + RAMP_BEYOND_MAJOR * (major_c - minor_c)
for every check of ``faults.CHECKS`` that runs on the rep (its measure and the thresholds of the
rep's view, ``FaultCheck.thresholds``; for a check where lower is worse the signs flip). A
criterion costs nothing while the measure stays on the sound side of the check's minor threshold, falls
linearly beyond it and is spent at half the minor-major
span past the major threshold, so the score and the faults tell the same story: a rep without a
fault scores 90-100 from any camera, a major fault costs up to a criterion's whole share. Each
criterion weighs one, and so does the similarity (W_SIMILARITY = 1). How this was chosen: on the dev
split of the labelled clips (``python -m analysis evaluate``), with the ramp starting at the clean
reps' median instead, clean reps scored 70 in oblique views and 90 in front views (a 20-point
spread: a sound squat was penalised for the style of its view) and the ROC AUC of the score for
"clean" was 0.87; starting at the minor threshold gave AUC 0.976 and a 1.2-point spread (0.977 and
1.2 with the knee and heel measures read against the standing posture, ``faults``). Weighting
the similarity 0 to 4 moved the AUC by less than 0.01; at 1 it keeps a share of the score on
"looks like the answer sheet" without letting the camera's position decide.

Similarity (``score_rep``): the two reps' angle-feature curves (n, 4) are aligned by DTW
(``dtw.align``); the similarity is the mean frame similarity over the matched pairs of the path.
Frame similarity (``frame_similarity``), two parts weighted equally (``POSE_WEIGHT`` = 0.5):
    pose part  = 100 * clip((cos - COS_FLOOR) / (1 - COS_FLOOR), 0, 1)
        cos = cosine similarity of the flattened, normalised (``normalize.normalize_pose``) 3-D
        positions of the squat keypoints (``landmarks.SQUAT_KEYPOINTS``) that are visible
        (visibility >= ``MIN_VISIBILITY`` = 0.5, MediaPipe's own presence threshold) in both poses.
        This is the keypoint-vector cosine similarity of Google's Move Mirror
        (https://medium.com/tensorflow/move-mirror-an-ai-experiment-with-pose-estimation-in-the-browser-using-tensorflow-js-2f7b769f9b23).
        COS_FLOOR = 0.6: hip-centred body vectors all point "outwards" from the hips, so even
        unrelated poses have cos ~0.5-0.7; the floor spreads the useful range (set so a deep-squat
        frame against a standing frame scores ~0 on this part).
    angle part = 100 * clip(1 - mean|delta angle| / ANGLE_TOLERANCE, 0, 1)
        over knee, hip, ankle (each the mean of both sides) and trunk lean, in degrees;
        ANGLE_TOLERANCE = 45 deg (a 45 deg mean error, e.g. standing vs a half squat, scores 0).
        Joint angles carry the clinical meaning the cosine blurs; e.g. the NASM overhead-squat
        assessment and most squat checkers (LearnOpenCV AI Fitness Trainer) grade these angles.
Depth credit: going deeper than the reference is not a fault (the standards ask for "at least
parallel"), so before comparing, the user's knee and hip angles are clamped at the reference rep's
smallest ones, and user frames whose hip height is below the reference's lowest are compared on
angles only. Per-joint deviation = mean |user - reference| over matched pairs, in degrees, plus the
deviation at the user's bottom frame (the phase where form matters most).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from analysis.angles import ANGLE_NAMES
from analysis.dtw import align, fill_gaps
from analysis.landmarks import SQUAT_KEYPOINTS

W_SIMILARITY = 1.0
RAMP_BEYOND_MAJOR = 0.5
POSE_WEIGHT = 0.5
COS_FLOOR = 0.6
ANGLE_TOLERANCE = 45.0
MIN_VISIBILITY = 0.5
MIN_SHARED_KEYPOINTS = 4
"""With fewer shared visible keypoints the cosine is meaningless; the pose part is then skipped."""

FEATURE_NAMES: tuple[str, ...] = ("knee", "hip", "ankle", "trunk_lean")
_KP = np.array([int(k) for k in SQUAT_KEYPOINTS])


def angle_features(angles: np.ndarray) -> np.ndarray:
    """(..., 7) angles in ``ANGLE_NAMES`` order -> (..., 4) features in ``FEATURE_NAMES`` order
    (left/right averaged, ignoring a NaN side)."""
    a = np.asarray(angles, np.float64)
    idx = {n: i for i, n in enumerate(ANGLE_NAMES)}
    with np.errstate(all="ignore"), _quiet():
        knee = np.nanmean(a[..., [idx["knee_left"], idx["knee_right"]]], axis=-1)
        hip = np.nanmean(a[..., [idx["hip_left"], idx["hip_right"]]], axis=-1)
        ankle = np.nanmean(a[..., [idx["ankle_left"], idx["ankle_right"]]], axis=-1)
    return np.stack([knee, hip, ankle, a[..., idx["trunk_lean"]]], axis=-1)


class _quiet:
    """Silence numpy's 'Mean of empty slice' warning: an all-NaN pair is a legitimate NaN here."""

    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)


def pose_cosine(user_norm: np.ndarray, ref_norm: np.ndarray, user_vis: np.ndarray,
                ref_vis: np.ndarray) -> float:
    """Cosine similarity (-1..1) of the visible squat keypoints of two normalised (33, 3) poses;
    NaN when fewer than ``MIN_SHARED_KEYPOINTS`` are visible in both."""
    mask = (np.asarray(user_vis)[_KP] >= MIN_VISIBILITY) & (np.asarray(ref_vis)[_KP] >= MIN_VISIBILITY)
    if mask.sum() < MIN_SHARED_KEYPOINTS:
        return float("nan")
    u = np.asarray(user_norm)[_KP][mask].ravel()
    r = np.asarray(ref_norm)[_KP][mask].ravel()
    den = np.linalg.norm(u) * np.linalg.norm(r)
    return float(u @ r / den) if den > 0 else float("nan")


def pose_part(cos: float) -> float:
    """Pose part of the frame score (0..100) from a cosine similarity; NaN in, NaN out."""
    if not np.isfinite(cos):
        return float("nan")
    return float(100.0 * np.clip((cos - COS_FLOOR) / (1.0 - COS_FLOOR), 0.0, 1.0))


def angle_part(user_feat: np.ndarray, ref_feat: np.ndarray) -> float:
    """Angle part of the frame score (0..100) from two (4,) feature vectors in degrees."""
    d = np.abs(np.asarray(user_feat, np.float64) - np.asarray(ref_feat, np.float64))
    d = d[np.isfinite(d)]
    if d.size == 0:
        return float("nan")
    return float(100.0 * np.clip(1.0 - d.mean() / ANGLE_TOLERANCE, 0.0, 1.0))


def combine(pose: float, angle: float) -> float:
    """Weighted mean of the two parts; a NaN part is dropped (its weight goes to the other)."""
    parts = [(POSE_WEIGHT, pose), (1.0 - POSE_WEIGHT, angle)]
    parts = [(w, v) for w, v in parts if np.isfinite(v)]
    if not parts:
        return float("nan")
    return float(sum(w * v for w, v in parts) / sum(w for w, _ in parts))


def frame_similarity(user_norm, ref_norm, user_vis, ref_vis, user_feat, ref_feat) -> float:
    """Similarity 0..100 of one user frame to one reference frame (formula in the module doc).

    Args: normalised poses (33, 3), visibilities (33,), angle features (4,) in degrees.
    Returns NaN only if neither part can be computed.
    """
    return combine(pose_part(pose_cosine(user_norm, ref_norm, user_vis, ref_vis)),
                   angle_part(user_feat, ref_feat))


@dataclass(frozen=True)
class RepSequence:
    """Per-frame data of one rep, T frames: normalised poses (T, 33, 3), visibility (T, 33),
    angle features (T, 4) in degrees (may contain NaN), hip height (T,) in leg lengths, and the
    bottom frame (index into T)."""

    norm: np.ndarray
    vis: np.ndarray
    features: np.ndarray
    hip_height: np.ndarray
    bottom: int

    def __len__(self) -> int:
        return len(self.features)


@dataclass(frozen=True)
class RepScore:
    """score 0..100 (``rep_score``; the similarity alone until ``with_form`` adds the criteria);
    similarity 0..100 to the reference rep; criteria: {check name: 0..1}; deviation_deg /
    bottom_deviation_deg: {feature: mean |user - ref| in degrees}; signed_bottom_deg: user - ref at
    the bottom (negative knee = deeper than the reference); dtw_distance in degrees; path_length >=
    max(len(user), len(ref)); reference: the reference's name; reference_hash: its content hash
    (SHA-256 of its per-frame data, hex; None for one held only in memory); reference_rep: its
    1-based rep."""

    score: float
    deviation_deg: dict[str, float]
    bottom_deviation_deg: dict[str, float]
    signed_bottom_deg: dict[str, float]
    dtw_distance: float
    path_length: int
    reference_rep: int = 0
    similarity: float = float("nan")
    criteria: dict[str, float] = field(default_factory=dict)
    reference: str | None = None
    reference_hash: str | None = None

    def with_form(self, criteria: dict[str, float], reference: str | None = None) -> RepScore:
        """This similarity combined with the rep's form criteria (``rep_score``)."""
        return replace(self, score=rep_score(self.similarity, criteria), criteria=dict(criteria),
                       reference=reference if reference is not None else self.reference)

    def to_dict(self) -> dict:
        return {
            "score": round(self.score, 1),
            "similarity": None if not np.isfinite(self.similarity) else round(self.similarity, 1),
            "criteria": {k: round(v, 3) for k, v in self.criteria.items()},
            "reference": self.reference,
            "reference_hash": self.reference_hash,
            "deviation_deg": {k: round(v, 1) for k, v in self.deviation_deg.items()},
            "bottom_deviation_deg": {k: round(v, 1) for k, v in self.bottom_deviation_deg.items()},
            "signed_bottom_deg": {k: round(v, 1) for k, v in self.signed_bottom_deg.items()},
            "dtw_distance": round(self.dtw_distance, 2),
            "path_length": self.path_length,
            "reference_rep": self.reference_rep,
        }


def score_rep(user: RepSequence, ref: RepSequence) -> RepScore:
    """Align ``user`` to ``ref`` by DTW over angle features and score it (see module doc).

    Raises ValueError if either rep has a feature with no finite value at all.
    """
    uf, rf = fill_gaps(user.features), fill_gaps(ref.features)
    # Depth credit (module doc): knee (0) and hip (1) flexion beyond the reference's deepest.
    uf[:, :2] = np.maximum(uf[:, :2], rf[:, :2].min(axis=0))
    beyond = np.asarray(user.hip_height) < np.nanmin(ref.hip_height)
    al = align(uf, rf)
    i, j = al.path[:, 0], al.path[:, 1]
    scores = np.array([
        combine(float("nan") if beyond[a]
                else pose_part(pose_cosine(user.norm[a], ref.norm[b], user.vis[a], ref.vis[b])),
                angle_part(uf[a], rf[b]))
        for a, b in zip(i, j)
    ])
    dev = np.abs(uf[i] - rf[j]).mean(axis=0)
    bottom_refs = al.matches_of(user.bottom)
    signed_bottom = (uf[user.bottom] - rf[bottom_refs].mean(axis=0))
    bottom_dev = np.abs(uf[user.bottom] - rf[bottom_refs]).mean(axis=0)
    with _quiet():
        total = float(np.nanmean(scores)) if np.isfinite(scores).any() else float("nan")
    return RepScore(
        score=total,
        deviation_deg=dict(zip(FEATURE_NAMES, dev.tolist())),
        bottom_deviation_deg=dict(zip(FEATURE_NAMES, bottom_dev.tolist())),
        signed_bottom_deg=dict(zip(FEATURE_NAMES, signed_bottom.tolist())),
        dtw_distance=al.distance,
        path_length=len(al.path),
        similarity=total,
    )


def criterion(value: float, minor: float, major: float, higher_is_worse: bool = True) -> float:
    """One form criterion's term (0..1) from a check's measured value and thresholds (module doc);
    NaN when the value is NaN."""
    if not np.isfinite(value):
        return float("nan")
    sign = 1.0 if higher_is_worse else -1.0
    v, lo, hi = sign * value, sign * minor, sign * major
    bad = hi + RAMP_BEYOND_MAJOR * (hi - lo)
    return float(np.clip(1.0 - (v - lo) / (bad - lo), 0.0, 1.0))


def rep_score(similarity: float | None, criteria: dict[str, float]) -> float:
    """The rep score 0..100 (module doc) from a similarity 0..100 (None or NaN: no reference) and
    the criteria's terms 0..1 (NaN terms are left out). NaN if there is nothing to score."""
    parts = [(1.0, c) for c in criteria.values() if np.isfinite(c)]
    if similarity is not None and np.isfinite(similarity):
        parts.append((W_SIMILARITY, similarity / 100.0))
    if not parts:
        return float("nan")
    return float(100.0 * sum(w * v for w, v in parts) / sum(w for w, _ in parts))
