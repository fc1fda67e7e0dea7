"""References ("answer sheets"): which one the workers score against (docs/api.md,
``GET/PUT /api/v1/reference``)."""

from __future__ import annotations

from pydantic import Field

from formsync.wire.base import Wire

REFERENCE_NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"


class ReferenceChoice(Wire):
    name: str = Field(pattern=REFERENCE_NAME_PATTERN, description="Reference name in the library.")


class ReferenceOut(Wire):
    name: str | None = Field(None, max_length=64, description="The chosen reference; null: each worker's "
                                                              "default of the camera's view.")
