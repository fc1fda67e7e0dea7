"""Identifiers on the wire, defined once for the hub, the camera client, the worker and the dashboard."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

CAMERA_ID_MAX = 64
CAMERA_ID_PATTERN = rf"^[A-Za-z0-9_-]{{1,{CAMERA_ID_MAX}}}$"
"""A camera id: 1-64 letters, digits, ``_`` or ``-`` (safe in URLs, log prefixes and thread names)."""
CAMERA_ID = re.compile(CAMERA_ID_PATTERN)

CameraIdField = Annotated[str, Field(pattern=CAMERA_ID_PATTERN, description="Camera id, `^[A-Za-z0-9_-]{1,64}$`.")]
