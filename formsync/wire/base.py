"""What every wire model shares: strictness where the hub accepts input, tolerance where a role
reads, and the bounded number types the models are built from.

Every model of the hub API derives from ``Wire``: unknown fields are refused (``extra="forbid"``),
so a typo in a worker's post is a 422 naming the field, not a silently dropped value, and the hub's
answers are checked against their declared shape as they leave. Instances are frozen: a reader
hands one snapshot to many threads by reference.

Readers (the hub client, the worker's event follower, the dashboard) validate what they receive
with ``read``, which ignores unknown fields at every depth: an older reader keeps working when a
newer hub adds a field. A subclass's own ``extra="ignore"`` would reach only its top level (nested
models keep their ``forbid``), so the tolerance is asked for per validation instead
(pydantic's ``extra`` argument, pydantic >= 2.12).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

M = TypeVar("M", bound=BaseModel)

I64_MAX = 2**63 - 1
"""Largest signed 64-bit integer: the bound of every ns time, sequence number and counter, so any
value the hub accepts also fits an SQLite INTEGER and a Prometheus sample."""


class Wire(BaseModel):
    """Base of every hub API model: unknown fields refused, instances frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def read(model: type[M], data: str | bytes | bytearray | dict[str, Any]) -> M:
    """``data`` (JSON text or a decoded object) as ``model``, ignoring fields the model does not
    know at every depth. Raises ``pydantic.ValidationError`` (a ``ValueError``) when a field the
    model needs is missing or out of bounds, or the text is not JSON."""
    if isinstance(data, (str, bytes, bytearray)):
        return model.model_validate_json(data, extra="ignore")
    return model.model_validate(data, extra="ignore")


# Bounded building blocks: a field states its unit in its description.
TimeNs = Annotated[int, Field(ge=0, le=I64_MAX)]
"""A time in ns since the Unix epoch."""
Count = Annotated[int, Field(ge=0, le=I64_MAX)]
Seq = Annotated[int, Field(ge=0, le=I64_MAX)]
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Unit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Ms = Annotated[float, Field(ge=0, le=3_600_000, allow_inf_nan=False)]
"""A duration in ms, at most an hour."""
SignedMs = Annotated[float, Field(ge=-1e13, le=1e13, allow_inf_nan=False)]
"""A signed difference of two ns times, in ms (clock offsets, ages, latencies): any two times
the hub accepts differ by less than 1e13 ms."""
Score = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
"""A 0-100 score (``analysis/scoring.py``)."""
Measure = Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]
"""A fault check's measured value in the check's own unit (degrees, ratio, % of leg length)."""
Name = Annotated[str, Field(min_length=1, max_length=64)]
