"""``python fastapi_server.py``: run the hub under uvicorn."""

from __future__ import annotations

import argparse
import logging
import sys

from pydantic import ValidationError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fastapi_server.py", description="Run the FormSync hub.")
    p.add_argument("--host", help="address to bind (default 127.0.0.1, env FORMSYNC_HUB_HOST)")
    p.add_argument("--port", type=int, help="port (default 8000, env FORMSYNC_HUB_PORT)")
    p.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"])
    return p


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    from .app import create_app
    from .settings import HubSettings

    args = build_parser().parse_args(argv)
    overrides = {k: v for k, v in {"host": args.host, "port": args.port, "log_level": args.log_level}.items() if v is not None}
    try:
        settings = HubSettings(**overrides)
    except ValidationError as exc:
        print(f"fastapi_server.py: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # Per-request access lines at hundreds of frames/s cost more CPU than the ingest itself.
        access_log=False,
        ws_max_size=settings.max_frame_bytes + 4096 + 4,
    )
    return 0
