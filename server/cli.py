"""``python fastapi_server.py``: run the hub under uvicorn."""

from __future__ import annotations

import argparse
import logging.config
import sys

from pydantic import ValidationError

from .log_config import hub_log_config


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fastapi_server.py", description="Run the FormSync hub.")
    p.add_argument("--host", help="address to bind (default 127.0.0.1, env FORMSYNC_HUB_HOST)")
    p.add_argument("--port", type=int, help="port (default 8000, env FORMSYNC_HUB_PORT)")
    p.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--make-token", action="store_true",
                   help="print a new random access token (for FORMSYNC_HUB_*_TOKENS) and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    from monitoring.alert_rules import AlertConfigError

    from .app import create_app
    from .settings import HubSettings

    args = build_parser().parse_args(argv)
    if args.make_token:
        from .auth import make_token

        print(make_token())
        return 0
    overrides = {k: v for k, v in {"host": args.host, "port": args.port, "log_level": args.log_level}.items() if v is not None}
    try:
        settings = HubSettings(**overrides)
    except ValidationError as exc:
        print(f"fastapi_server.py: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    # Until uvicorn applies hub_log_config(): the same format and filters for start-up messages.
    logging.config.dictConfig(hub_log_config(settings.log_level))
    try:
        app = create_app(settings)
    except AlertConfigError as exc:  # alert_rules_file / alert_rules: fail fast, naming the rule
        print(f"fastapi_server.py: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=hub_log_config(settings.log_level),  # request ids in lines, credentials redacted
        # Per-request access lines at hundreds of frames/s cost more CPU than the ingest itself.
        access_log=False,
        ws_max_size=settings.max_frame_bytes + 4096 + 4,
    )
    return 0

