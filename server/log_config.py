"""The hub's logging: every line names its request, and no line carries a credential.

``hub_log_config()`` is uvicorn's own ``LOGGING_CONFIG`` plus two filters on every handler (uvicorn's
and the root one the hub's modules log through):

- ``RequestIdLogFilter`` (server/errors.py): ``[%(request_id)s]`` in the hub's format;
- ``RedactCredentials``: at debug level the WebSocket library logs handshake headers, which
  include ``Authorization: Bearer <token>``; the token is replaced by ``***`` before any handler
  writes the line.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

HUB_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"

_CREDENTIAL = re.compile(r"(?i)\b(bearer|basic)(\s+)[^\s'\",;]+")


class RedactCredentials(logging.Filter):
    """Rewrites a record whose message holds ``Bearer <token>`` / ``Basic <creds>`` to ``Bearer ***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _CREDENTIAL.sub(r"\1\2***", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def hub_log_config(level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict for ``uvicorn.run(log_config=...)``."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {
        "request_id": {"()": "server.errors.RequestIdLogFilter"},
        "redact": {"()": "server.log_config.RedactCredentials"},
    }
    config["formatters"]["hub"] = {"format": HUB_FORMAT}
    config["handlers"]["hub"] = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                 "formatter": "hub"}
    for handler in config["handlers"].values():
        handler["filters"] = ["request_id", "redact"]
    config["root"] = {"handlers": ["hub"], "level": level.upper()}
    return config
