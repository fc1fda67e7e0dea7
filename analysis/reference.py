"""The reference ("answer sheet"): a recorded good squat, and the worker's library of them.

A reference is built by running the very same ``PoseAnalyzer`` over every frame of a video, and
keeps the landmark sequence, the joint-angle curves and the rep segmentation. The hub stores and
serves the references every worker scores against (``server/references``); a worker builds them
in a library folder of its own and uploads them as a bundle of that folder
(``formsync.reference_bundle``: the same layout). Each reference is a folder ``<library>/<name>/``:
    reference.json  ``formsync.wire.references.ReferenceContent``: name, source video, fps, frame
                    count, view, reps (seq numbers), angle names, format
    arrays.npz      seq (T,), capture_time_ns (T,), landmarks (T, 33, 4), world_landmarks (T, 33, 4),
                    image_size (T, 2), angles (T, 7) in degrees (``angles.ANGLE_NAMES``),
                    hip_height (T,) in leg lengths  -- T = frames with a detected pose.
                    Its SHA-256 is the reference's content hash, carried by every result scored
                    against it.
    frames/<seq>.jpg  a small picture of every frame (``THUMB_HEIGHT`` px high), shown beside the
                    user at the matched phase.
Derived values are recomputed from the landmarks on load, so a reference always matches the
code that scores against it; the stored curves are for people and plots.

A reference records its view (that of its model reps). A camera is scored against the reference of
its own view when the library has one (``ReferenceSet``): the one chosen, if it is of that view,
else the library's default of that view (``paths.DEFAULT_REFERENCES``), else the one chosen.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis.angles import ANGLE_NAMES
from analysis.faults import RepWindow
from analysis.features import FrameFeatures
from analysis.measures import RepSeries, rep_series
from analysis.paths import DEFAULT_REFERENCE_NAME, DEFAULT_REFERENCES, reference_dir, squat_dir
from analysis.pose import PoseFrame
from analysis.reps import Phase, Rep
from analysis.scoring import RepScore, score_rep
from analysis.view import classify_ratio
from formsync.reference_bundle import DATA_FILE, META_FILE, check_data, content_hash, read_data, write_npz
from formsync.wire.references import FORMAT_VERSION, REFERENCE_NAME_PATTERN, ReferenceContent

log = logging.getLogger(__name__)
THUMB_HEIGHT = 360
"""Height of the stored reference pictures, px: a dashboard tile, at ~15-30 kB per JPEG."""
MODEL_DEPTH_TOLERANCE = 0.05
_NAME = re.compile(REFERENCE_NAME_PATTERN)


class NoRepFound(ValueError):
    """The video holds no complete rep: a reference without reps cannot score anything."""


@dataclass
class Reference:
    """A reference squat: its analysed frames (in seq order) and reps (at least one to score against).

    content_hash: SHA-256 of its per-frame data (``arrays.npz``) when it was loaded or built from
    stored data; None for one only held in memory."""

    name: str
    source: str
    fps: float
    frames: list[FrameFeatures]
    reps: list[Rep]
    view: str | None
    content_hash: str | None = None

    def __post_init__(self) -> None:
        self._pos = {f.index: i for i, f in enumerate(self.frames)}
        self._halves = [self._split(r) for r in self.reps]
        self._series: dict[int, RepSeries] = {}

    @property
    def model_reps(self) -> list[int]:
        """0-based indices of the reps users are scored against: those within ``MODEL_DEPTH_TOLERANCE``
        (0.05 leg lengths) of the deepest rep's hip height. A reference video may contain a
        shallower rep (intellifit1's second rep stops ~0.07 higher); matching a user against it
        would reward shallow squats."""
        if not self.reps:
            return []
        deepest = min(r.min_hip_height for r in self.reps)
        return [k for k, r in enumerate(self.reps) if r.min_hip_height <= deepest + MODEL_DEPTH_TOLERANCE]

    def window(self, k: int) -> RepWindow:
        """Frames of rep ``k`` (0-based) with its bottom. Raises IndexError for a missing rep."""
        rep = self.reps[k]
        frames = [f for f in self.frames if rep.start <= f.index <= rep.end]
        bottom = int(np.argmin([abs(f.index - rep.bottom) for f in frames]))
        return RepWindow(frames, bottom)

    def _split(self, rep: Rep) -> tuple[list[FrameFeatures], list[FrameFeatures]]:
        w = self.window(self.reps.index(rep))
        return list(w.frames[: w.bottom + 1]), list(w.frames[w.bottom:])

    def series(self, k: int | None = None) -> RepSeries:
        """Form measures of rep ``k`` (0-based; default the first model rep), computed once."""
        k = self.model_reps[0] if k is None else k
        if k not in self._series:
            w = self.window(k)
            self._series[k] = rep_series(w.frames, w.bottom)
        return self._series[k]

    def phase_match(self, hip_height: float, phase: Phase) -> FrameFeatures:
        """Reference frame at the same phase: in the first model rep's descent (phase DOWN), ascent (UP)
        or whole rep (other phases), the frame with the closest hip height. Raises ValueError
        without reps."""
        if not self.reps:
            raise ValueError(f"reference {self.name!r} has no reps")
        down, up = self._halves[self.model_reps[0]]
        pool = down if phase is Phase.DOWN else up if phase is Phase.UP else down + up
        if not np.isfinite(hip_height):
            return pool[0]
        return min(pool, key=lambda f: abs(f.hip_height - hip_height))

    def score(self, window: RepWindow) -> RepScore:
        """Score a user rep against each model rep (``model_reps``) and keep the best match."""
        from analysis.session import sequence_of

        user = sequence_of(window)
        best = None
        for k in self.model_reps:
            s = score_rep(user, sequence_of(self.window(k)))
            if best is None or s.score > best.score:
                best = RepScore(**{**s.__dict__, "reference_rep": k + 1, "reference": self.name,
                                   "reference_hash": self.content_hash})
        if best is None:
            raise ValueError(f"reference {self.name!r} has no reps")
        return best

    # -- storage -------------------------------------------------------------------------------
    def content(self) -> ReferenceContent:
        """Its ``reference.json``: what the hub stores as metadata."""
        return ReferenceContent(format=FORMAT_VERSION, name=self.name, source=str(self.source)[-300:],
                                fps=self.fps, frames=len(self.frames), view=self.view,
                                reps=[r.to_dict() for r in self.reps], angle_names=list(ANGLE_NAMES))

    def data(self) -> bytes:
        """Its per-frame data, ``arrays.npz`` (``formsync.reference_bundle.DATA_ARRAYS``), the same
        bytes for the same frames."""
        return write_npz({
            "seq": np.array([f.index for f in self.frames], np.int64),
            "capture_time_ns": np.array([f.capture_time_ns for f in self.frames], np.int64),
            "landmarks": np.stack([f.pose.landmarks for f in self.frames]).astype(np.float32),
            "world_landmarks": np.stack([f.pose.world_landmarks for f in self.frames]).astype(np.float32),
            "image_size": np.array([f.pose.image_size for f in self.frames], np.int32),
            "angles": np.stack([f.angles for f in self.frames]).astype(np.float32),
            "hip_height": np.array([f.hip_height for f in self.frames], np.float32),
        })

    def save(self, folder: Path) -> Path:
        """Write ``arrays.npz`` then ``reference.json`` into ``folder``, each by an atomic rename,
        and set ``content_hash``."""
        folder.mkdir(parents=True, exist_ok=True)
        data = self.data()
        arrays_tmp = folder / f"{DATA_FILE}.tmp"
        arrays_tmp.write_bytes(data)
        os.replace(arrays_tmp, folder / DATA_FILE)
        meta_tmp = folder / f"{META_FILE}.tmp"
        meta_tmp.write_text(self.content().model_dump_json(indent=2))
        os.replace(meta_tmp, folder / META_FILE)
        self.content_hash = content_hash(data)
        return folder

    @classmethod
    def from_data(cls, content: ReferenceContent | Mapping, data: bytes) -> Reference:
        """A reference from its ``reference.json`` and ``arrays.npz`` bytes (as the hub serves them),
        with ``content_hash`` = SHA-256 of ``data``. Raises ValueError (``BundleError`` or pydantic's
        ``ValidationError``) when they are not a reference of this format."""
        content = content if isinstance(content, ReferenceContent) else ReferenceContent.model_validate(content)
        arr = read_data(data)
        check_data(arr, content)
        frames = [
            FrameFeatures.from_pose(PoseFrame(lm, wl, (int(sz[0]), int(sz[1]))), int(s), int(t))
            for s, t, lm, wl, sz in zip(arr["seq"], arr["capture_time_ns"], arr["landmarks"],
                                        arr["world_landmarks"], arr["image_size"])
        ]
        reps = [Rep(**r.model_dump()) for r in content.reps]
        return cls(content.name, content.source, content.fps, frames, reps, content.view, content_hash(data))

    @classmethod
    def load(cls, folder: Path) -> Reference:
        """Raises FileNotFoundError if the folder is not a reference, ValueError on a format mismatch."""
        meta_path = folder / META_FILE
        if not meta_path.exists():
            raise FileNotFoundError(f"no reference at {folder}")
        meta = json.loads(meta_path.read_text())
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"reference {folder} has format {meta.get('format')}, expected {FORMAT_VERSION}")
        return cls.from_data(meta, (folder / DATA_FILE).read_bytes())


def reference_view(frames: Sequence[FrameFeatures], reps: Sequence[Rep]) -> str | None:
    """The view of a reference: that of its deepest rep (``measures.RepSeries.facing``); None
    without reps."""
    if not reps:
        return None
    rep = min(reps, key=lambda r: r.min_hip_height)
    inside = [f for f in frames if rep.start <= f.index <= rep.end]
    facing = rep_series(inside).facing if inside else float("nan")
    return classify_ratio(facing) if np.isfinite(facing) else None


def from_analyzer(name: str, source: str, fps: float, analyzer) -> Reference:
    """Turn a finished ``PoseAnalyzer`` run (with unbounded history) into a reference."""
    frames, reps = list(analyzer.history), list(analyzer.counter.reps)
    return Reference(name, source, fps, frames, reps, reference_view(frames, reps))


@dataclass(frozen=True)
class ReferenceSet:
    """The reference chosen for scoring and, per view, the library's reference of that view.

    ``for_view(view)``: the chosen reference if it is of ``view`` (or the view is unknown), else the
    library's reference of ``view``, else the chosen one. ``name`` is the chosen reference's."""

    chosen: Reference
    by_view: dict[str, Reference]

    @property
    def name(self) -> str:
        return self.chosen.name

    def for_view(self, view: str | None) -> Reference:
        if view is None or self.chosen.view == view:
            return self.chosen
        return self.by_view.get(view, self.chosen)

    @classmethod
    def of(cls, reference: Reference | ReferenceSet) -> ReferenceSet:
        """A set around one reference (no alternatives per view), or the set itself."""
        return reference if isinstance(reference, ReferenceSet) else cls(reference, {})


class ReferenceLibrary:
    """A folder of references (default ``paths.reference_dir()``, env FORMSYNC_REFERENCE_DIR): where a
    worker builds references before uploading them, and the offline path's answer sheets."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else reference_dir()

    def names(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if _NAME.match(p.name) and (p / META_FILE).exists())

    def path(self, name: str) -> Path:
        if not _NAME.match(name or ""):
            raise ValueError(f"invalid reference name {name!r}")
        return self.root / name

    def load(self, name: str) -> Reference:
        """Raises FileNotFoundError for an unknown name."""
        return Reference.load(self.path(name))

    def build(self, video: Path | str, name: str, progress: bool = False,
              on_progress: Callable[[int, int], None] | None = None) -> Reference:
        """Run pose over every frame of ``video`` and store the result as ``name``, replacing any
        reference of that name whole (it is built aside and renamed into place).

        The poses come from the pose cache (``pose_cache``) when the same video was analysed
        before, so a rebuild only replays them and redraws the pictures; otherwise MediaPipe runs
        frame by frame here and the poses are cached for next time. progress: a tqdm bar;
        on_progress(frames_done, frame_count) after each frame (count 0 if unknown), from this
        thread. Raises FileNotFoundError for a missing video, ValueError for a bad name or a video
        that does not open, NoRepFound (a ValueError) if no complete rep was found in it.
        """
        import cv2

        from analysis import pose_cache
        from analysis.pose import PoseEstimator
        from analysis.session import DEFAULT_MAX_WIDTH, PoseAnalyzer
        from analysis.video import frames as video_frames
        from analysis.video import probe

        target = self.path(name)
        info = probe(video)
        cached = pose_cache.cached(video, DEFAULT_MAX_WIDTH)
        estimator = PoseEstimator(max_width=DEFAULT_MAX_WIDTH) if cached is None else None
        found: list[PoseFrame | None] = []
        work = self.root / f".building-{name}-{uuid.uuid4().hex[:8]}"
        thumbs = work / "frames"
        thumbs.mkdir(parents=True)
        try:
            analyzer = PoseAnalyzer(f"reference:{name}", history_frames=None, estimator=_NoEstimator())
            it = video_frames(video)
            if progress:
                from tqdm import tqdm

                it = tqdm(it, total=info.frame_count or None, desc=Path(video).name, unit="frame")
            for frame, t_ns, seq in it:
                if cached is None:
                    pose = estimator.estimate(frame)
                    found.append(pose)
                else:
                    pose = cached.poses[seq] if seq < len(cached.poses) else None
                analyzer.update(pose, seq, t_ns)
                h, w = frame.shape[:2]
                small = cv2.resize(frame, (max(1, round(w * THUMB_HEIGHT / h)), THUMB_HEIGHT),
                                   interpolation=cv2.INTER_AREA)
                ok, jpg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
                if ok:
                    (thumbs / f"{seq}.jpg").write_bytes(jpg.tobytes())
                if on_progress is not None:
                    on_progress(seq + 1, info.frame_count or 0)
            if estimator is not None:
                pose_cache.store(video, DEFAULT_MAX_WIDTH, pose_cache.ClipPoses(info.fps, found))
            ref = from_analyzer(name, str(video), info.fps, analyzer)
            if not ref.reps:
                raise NoRepFound(f"no complete rep found in {Path(video).name}; cannot use it as a reference")
            ref.save(work)
            _swap_into_place(work, target)
        finally:
            if estimator is not None:
                estimator.close()
            shutil.rmtree(work, ignore_errors=True)
        log.info("reference %s built from %s: %d frames, %d reps, view %s", name, video, len(ref.frames),
                 len(ref.reps), ref.view)
        return ref

    def build_default(self, progress: bool = False) -> list[Reference]:
        """Build the default reference of every view (``paths.DEFAULT_REFERENCES``) from the shared
        footage. Raises FileNotFoundError if a clip is missing."""
        return [self.build(squat_dir() / clip, name, progress=progress) for name, clip in DEFAULT_REFERENCES.values()]

    def ensure(self, name: str) -> Reference:
        """Default reference ``name`` (``paths.DEFAULT_REFERENCES``), built first when missing or
        stored by an older format (seconds each from the pose cache). Raises KeyError for a name
        that is no default, FileNotFoundError if its clip is missing."""
        clip = {n: c for n, c in DEFAULT_REFERENCES.values()}[name]
        try:
            return self.load(name)
        except (FileNotFoundError, ValueError):
            return self.build(squat_dir() / clip, name)

    def ensure_defaults(self) -> None:
        """``ensure`` every default reference."""
        for name, _ in DEFAULT_REFERENCES.values():
            self.ensure(name)

    def reference_set(self, name: str | None = None) -> ReferenceSet:
        """``name`` (default: the default reference) with the library's default of each view.
        Builds missing defaults first. Raises FileNotFoundError for an unknown ``name``."""
        self.ensure_defaults()
        chosen = self.load(name or DEFAULT_REFERENCE_NAME)
        by_view = {}
        for view, (default, _) in DEFAULT_REFERENCES.items():
            try:
                by_view[view] = chosen if default == chosen.name else self.load(default)
            except (FileNotFoundError, ValueError):
                continue
        return ReferenceSet(chosen, by_view)


class _NoEstimator:
    def estimate(self, frame):  # pragma: no cover - poses always come from the caller or the cache
        raise RuntimeError("poses are supplied by the caller")


def _swap_into_place(built: Path, target: Path) -> None:
    """Replace folder ``target`` by ``built`` (same file system): a reader of the library sees the
    old reference or the new one, only for an instant neither, never a mix of both."""
    old = target.with_name(f".old-{target.name}-{uuid.uuid4().hex[:8]}")
    if target.exists():
        os.replace(target, old)
    os.replace(built, target)
    shutil.rmtree(old, ignore_errors=True)
