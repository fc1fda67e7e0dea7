"""Camera leases: which analysis worker analyses each camera (docs/api.md, *Leases*).

A worker analyses a camera only while it holds the camera's lease. Leases are granted by the hub
(``POST /api/v1/leases/{camera_id}``), kept alive by the worker's renewals and handed to another
worker once they expire (a worker that died) or are released (a worker that stopped).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from formsync.ids import CameraIdField
from formsync.wire.base import Count, Wire
from formsync.wire.references import WorkerId

LEASE_TTL_MS = 2000
"""Default lease lifetime, ms: a dead worker's cameras are free again at most this long after its
last renewal (the 3 s takeover target minus the new worker's first analysis)."""

INSTANCE_PATTERN = r"^[0-9a-f]{8,32}$"
RefusalReason = Literal["held", "worker_full", "balanced"]
"""Why a lease was not granted: another worker holds it; the asking worker already holds
``max_cameras``; a live worker with spare capacity holds fewer cameras (it takes this one)."""

_Ttl = Field(LEASE_TTL_MS, ge=200, le=60_000, description="Lease lifetime from now, ms.")
_Instance = Field(pattern=INSTANCE_PATTERN, description="Random id of the worker process (hex), new at every "
                                                        "start: a restarted worker is a new holder.")
_MaxCameras = Field(8, ge=1, le=1024, description="Most cameras the worker takes.")


class LeaseClaim(Wire):
    """A worker asks for (or renews) one camera's lease."""

    worker_id: WorkerId
    instance: str = _Instance
    ttl_ms: int = _Ttl
    max_cameras: int = _MaxCameras


class LeaseOut(Wire):
    camera_id: CameraIdField
    granted: bool = Field(description="The asking worker holds the lease now.")
    reason: RefusalReason | None = Field(None, description="Why not (when not granted).")
    worker_id: WorkerId | None = Field(None, description="The holder (the asking worker when granted; null: free).")
    expires_in_ms: int = Field(0, ge=0, le=60_000, description="Until the holder's lease expires unless renewed, "
                                                              "ms (0: free).")
    taken_over_from: WorkerId | None = Field(
        None, description="Granted from a worker that lost it without releasing it (it died): the camera's "
                          "open set was closed with reason `worker_lost`.")


class LeaseRenewal(Wire):
    """A worker renews every lease it holds, and says it is alive (its load and capacity)."""

    worker_id: WorkerId
    instance: str = _Instance
    camera_ids: list[CameraIdField] = Field(max_length=1024, description="The cameras it holds.")
    ttl_ms: int = _Ttl
    max_cameras: int = _MaxCameras


class LeaseRenewalOut(Wire):
    held: list[CameraIdField] = Field(max_length=1024, description="Renewed: still the worker's.")
    lost: list[CameraIdField] = Field(max_length=1024, description="No longer the worker's (expired, another "
                                                                   "worker took them): stop analysing them.")


class LeaseRelease(Wire):
    worker_id: WorkerId
    instance: str = _Instance


class LeaseReleaseOut(Wire):
    released: bool = Field(description="False: the worker did not hold it (nothing changed).")


class Lease(Wire):
    camera_id: CameraIdField
    worker_id: WorkerId
    instance: str = _Instance
    expires_in_ms: int = Field(ge=0, le=60_000, description="Until it expires unless renewed, ms.")


class WorkerLoad(Wire):
    worker_id: WorkerId
    instance: str = _Instance
    cameras: Count = Field(description="Leases it holds.")
    max_cameras: int = _MaxCameras


class LeaseList(Wire):
    leases: list[Lease] = Field(max_length=10_000, description="Live leases, by camera id.")
    workers: list[WorkerLoad] = Field(max_length=10_000, description="Live workers (renewed within their lease "
                                                                     "lifetime), by id.")
