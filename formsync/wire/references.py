"""References ("answer sheets"): the hub's store of them, the chosen one, and the jobs that build
them (docs/api.md, *References*).

A reference is stored and served by the hub. Its parts:

- metadata (``ReferenceMeta``): name, view, fps, frames, reps, source, when it was stored, and
  ``content_hash``, the SHA-256 (hex) of its per-frame data;
- per-frame data: an ``.npz`` of the arrays the worker scores against and the Coach page plots
  (``formsync.reference_bundle.DATA_ARRAYS``), served with the content hash as its ETag;
- pictures: one JPEG per video frame, ``frames/{seq}.jpg``.

Workers upload a built reference as one bundle (``formsync.reference_bundle``), which the hub
stores whole or not at all. Building one is a job (``ReferenceJob``) the Coach page requests with a
video and exactly one worker takes. The events that announce changes are in
``formsync.wire.events`` (``ReferenceEvent``, ``ReferenceJobEvent``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from formsync.wire.base import Count, TimeNs, Wire

REFERENCE_NAME_PATTERN = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$"
"""1-64 letters, digits, ``_``, ``-`` or ``.``, not starting with ``.``: safe as a URL segment and
as a folder name."""
CONTENT_HASH_PATTERN = r"^[0-9a-f]{64}$"
JOB_ID_PATTERN = r"^[0-9a-f]{32}$"
WORKER_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
FORMAT_VERSION = 4
"""Version of the bundle's ``reference.json`` and data arrays (``analysis.reference`` writes it)."""

ReferenceName = Annotated[str, Field(pattern=REFERENCE_NAME_PATTERN, description="Reference name.")]
ContentHash = Annotated[str, Field(pattern=CONTENT_HASH_PATTERN,
                                   description="SHA-256 of the reference's per-frame data, 64 hex digits.")]
WorkerId = Annotated[str, Field(pattern=WORKER_ID_PATTERN, description="The worker's id.")]
JobId = Annotated[str, Field(pattern=JOB_ID_PATTERN, description="Job id, 32 hex digits.")]
ReferenceView = Literal["front", "side", "oblique"]
_SeqInVideo = Annotated[int, Field(ge=0, le=10_000_000)]


class ReferenceRep(Wire):
    """One rep of the reference video; seqs are frame indices of the video (``analysis.reps.Rep``)."""

    index: int = Field(ge=1, le=10_000, description="1-based rep number.")
    start: _SeqInVideo = Field(description="Seq of the last frame at the top before the descent.")
    bottom: _SeqInVideo = Field(description="Seq of the deepest frame (smallest knee angle).")
    end: _SeqInVideo = Field(description="Seq of the first frame back at the top.")
    min_knee: float = Field(ge=0, le=360, description="Smallest knee angle of the rep, degrees.")
    min_hip_height: float = Field(ge=-2, le=3, description="Lowest hip height, leg lengths above the ankles.")


class ReferenceContent(Wire):
    """``reference.json`` of a bundle: what the worker measured on the video."""

    format: Literal[4] = Field(description="Bundle format version (``FORMAT_VERSION``).")
    name: ReferenceName
    source: str = Field(max_length=300, description="Video it was built from (a file name or path).")
    fps: float = Field(gt=0, le=240, description="Frame rate of the video, frames/s.")
    frames: int = Field(ge=1, le=1_000_000, description="Frames with a detected pose (rows of the data).")
    view: ReferenceView | None = Field(description="View of its deepest rep; null when it could not be told.")
    reps: list[ReferenceRep] = Field(min_length=1, max_length=1000,
                                     description="Its reps, in order (at least one: users are scored against them).")
    angle_names: list[Annotated[str, Field(pattern=r"^[a-z_]{1,32}$")]] = Field(
        min_length=1, max_length=64, description="Columns of the data's `angles` array, e.g. `knee_left`.")


class ReferenceMeta(ReferenceContent):
    """A stored reference, as the hub serves it."""

    content_hash: ContentHash = Field(description="SHA-256 of the per-frame data (hex); the data's ETag.")
    data_bytes: Count = Field(description="Size of the per-frame data, bytes.")
    pictures: Count = Field(description="Frame pictures stored (`frames/{seq}.jpg`).")
    created_time_ns: TimeNs = Field(description="When the hub stored this version, ns since the epoch.")


class ReferenceList(Wire):
    references: list[ReferenceMeta] = Field(description="Every stored reference, by name.")
    chosen: str | None = Field(description="The chosen reference; null: the workers' default of each view.")


class ReferenceChoice(Wire):
    name: ReferenceName = Field(description="A stored reference (`GET /api/v1/references`).")


class ReferenceOut(Wire):
    """The reference workers score against (each camera otherwise against the default of its view)."""

    name: str | None = Field(None, max_length=64, description="The chosen reference; null: each worker's "
                                                              "default of the camera's view.")
    content_hash: ContentHash | None = Field(None, description="Its content hash; null when none is chosen.")


# -- build jobs ------------------------------------------------------------------------------------
JobState = Literal["queued", "running", "done", "failed"]
JobErrorCode = Literal["no_rep_found", "video_unreadable", "build_failed", "worker_lost"]
"""Why a job failed: the video holds no complete rep, it does not decode, the build or its upload
failed, or the workers that took it stopped answering (``FORMSYNC_HUB_REFERENCE_JOB_ATTEMPTS``)."""


class JobError(Wire):
    code: JobErrorCode = Field(description="Why the job failed.")
    message: str = Field(max_length=500, description="What happened, for a person.")


class ReferenceJob(Wire):
    """A request to build reference ``name`` from an uploaded video."""

    job_id: JobId
    name: ReferenceName = Field(description="Reference to build (an existing one is rebuilt).")
    source: str = Field(max_length=200, description="The uploaded video's file name.")
    state: JobState = Field(description="`queued`, `running` (a worker took it), `done` or `failed`.")
    video_bytes: Count = Field(description="Size of the uploaded video, bytes.")
    worker_id: WorkerId | None = Field(description="The worker that took it (null while queued).")
    frames_done: Count = Field(description="Video frames analysed so far.")
    frames_total: Count | None = Field(description="Frames in the video, once the worker has read it.")
    attempts: int = Field(ge=0, le=100, description="Times a worker took it (a job is given again when its "
                                                    "worker stops answering).")
    content_hash: ContentHash | None = Field(description="The reference built (state done).")
    error: JobError | None = Field(description="Why it failed (state failed).")
    created_time_ns: TimeNs = Field(description="When the video was uploaded, ns.")
    updated_time_ns: TimeNs = Field(description="The job's last change, ns.")


class ReferenceJobList(Wire):
    jobs: list[ReferenceJob] = Field(description="Newest first.")


class JobClaim(Wire):
    worker_id: WorkerId


class JobProgress(Wire):
    worker_id: WorkerId
    frames_done: int = Field(ge=0, le=10_000_000, description="Video frames analysed so far.")
    frames_total: int | None = Field(None, ge=0, le=10_000_000, description="Frames in the video; 0 or null: "
                                                                          "not known.")


class JobDone(Wire):
    worker_id: WorkerId
    content_hash: ContentHash = Field(description="The reference the worker stored under the job's name.")


class JobFailure(Wire):
    worker_id: WorkerId
    code: Literal["no_rep_found", "video_unreadable", "build_failed"] = Field(description="Why it failed.")
    message: str = Field(max_length=500, description="What happened, for a person.")
