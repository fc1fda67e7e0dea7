"""``python fastapi_server.py``: run the hub under uvicorn."""

from __future__ import annotations

import argparse
import logging.config
import signal
import sys
import time

from pydantic import ValidationError

from server.log_config import hub_log_config

# Longest wait for open connections (event streams, a slow upload) once asked to stop, s. The
# processes of a demo must all be gone within 5 s of Ctrl-C.
GRACEFUL_STOP_S = 3.0


def _hub_server(config):
    """uvicorn's ``Server``, stopping the same graceful way however many signals arrive.

    uvicorn takes a second SIGINT as "force quit": it skips the lifespan's shutdown (closed sets
    and alerts not flushed) and prints a CancelledError traceback. A terminal's Ctrl-C under a
    supervisor delivers two at once (the terminal's and the supervisor's). uvicorn also raises the
    signal again after a clean stop, which prints a KeyboardInterrupt traceback. Here every signal
    asks for the graceful stop, which ``timeout_graceful_shutdown`` bounds.
    """
    import uvicorn

    class HubServer(uvicorn.Server):
        stop_signal: int | None = None
        stop_requested: float | None = None  # time.monotonic() of the first signal

        def handle_exit(self, sig: int, frame) -> None:
            if self.stop_signal is None:
                self.stop_signal, self.stop_requested = sig, time.monotonic()
            self.should_exit = True

    return HubServer(config)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fastapi_server.py", description="Run the FormSync hub.")
    p.add_argument("--host", help="address to bind (default 127.0.0.1, env FORMSYNC_HUB_HOST)")
    p.add_argument("--port", type=int, help="port (default 8000, env FORMSYNC_HUB_PORT)")
    p.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="hub processes sharing the port (uvicorn workers); more than 1 needs "
                        "FORMSYNC_HUB_REDIS_URL, where they share the cameras' state")
    p.add_argument("--make-token", action="store_true",
                   help="print a new random access token (for FORMSYNC_HUB_*_TOKENS) and exit")
    return p


def _run_workers(workers: int, settings, overrides: dict) -> int:
    """uvicorn's supervisor: ``workers`` processes accepting on one socket, each building the hub
    from the environment (the command line's overrides passed on through it)."""
    import os

    import uvicorn

    for key, value in {**overrides, "processes": workers}.items():
        os.environ[f"FORMSYNC_HUB_{key.upper()}"] = str(value)
    uvicorn.run(
        "server.app:create_app", factory=True, workers=workers, host=settings.host, port=settings.port,
        log_level=settings.log_level, log_config=hub_log_config(settings.log_level), access_log=False,
        ws_max_size=settings.max_frame_bytes + 4096 + 4, timeout_graceful_shutdown=GRACEFUL_STOP_S,
    )
    print(f"fastapi_server.py: {workers} hub processes on port {settings.port} stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    from server.app import create_app
    from server.monitoring.alert_rules import AlertConfigError
    from server.settings import HubSettings

    args = build_parser().parse_args(argv)
    if args.make_token:
        from server.auth import make_token

        print(make_token())
        return 0
    overrides = {k: v for k, v in {"host": args.host, "port": args.port, "log_level": args.log_level}.items()
                 if v is not None}
    try:
        settings = HubSettings(**overrides)
    except ValidationError as exc:
        print(f"fastapi_server.py: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    # Until uvicorn applies hub_log_config(): the same format and filters for start-up messages.
    logging.config.dictConfig(hub_log_config(settings.log_level))
    if args.workers < 1:
        print("fastapi_server.py: --workers must be at least 1", file=sys.stderr)
        return 2
    if args.workers > 1 and settings.redis_url is None:
        print(f"fastapi_server.py: --workers {args.workers} needs FORMSYNC_HUB_REDIS_URL=redis://host:port/db: "
              "each process keeps its own frames, sets and events without it", file=sys.stderr)
        return 2
    try:
        app = create_app(settings)
    except AlertConfigError as exc:  # alert_rules_file / alert_rules: fail fast, naming the rule
        print(f"fastapi_server.py: {exc}", file=sys.stderr)
        return 2
    if args.workers > 1:
        return _run_workers(args.workers, settings, overrides)
    server = _hub_server(uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=hub_log_config(settings.log_level),  # request ids in lines, credentials redacted
        # Per-request access lines at hundreds of frames/s cost more CPU than the ingest itself.
        access_log=False,
        ws_max_size=settings.max_frame_bytes + 4096 + 4,
        timeout_graceful_shutdown=GRACEFUL_STOP_S,
    ))
    try:
        server.run()
    except KeyboardInterrupt:  # Ctrl-C before uvicorn took over the signals: nothing to stop yet
        print("fastapi_server.py: interrupted while starting", flush=True)
        return 0
    if server.stop_signal is None:  # the lifespan's start-up failed; uvicorn logged why
        return 1
    took = time.monotonic() - server.stop_requested
    why = signal.Signals(server.stop_signal).name
    print(f"fastapi_server.py: hub on port {settings.port} stopped ({why}, {took:.1f} s)", flush=True)
    return 0

