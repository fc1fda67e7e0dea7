"""``python webcam_client.py``: stream cameras, video files or stream URLs to the hub."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime
from pathlib import Path

from clients.config import ConfigError, build_config, load_yaml, parse_camera_arg


def parse_start_at(text: str) -> int:
    """``"1763712000.5"`` or an ISO 8601 time with a zone -> ns since the epoch."""
    try:
        return int(round(float(text) * 1e9))
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not epoch seconds or ISO 8601: {text!r}") from None
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone (e.g. +00:00) in {text!r}")
    return int(round(when.timestamp() * 1e9))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="webcam_client.py",
        description="Capture frames, stamp them at capture and upload them to a FormSync hub.",
        epilog="examples:\n  webcam_client.py --camera front=0\n"
               "  webcam_client.py --hub http://hub.local:8000 --camera side=side.mp4 --camera front=front.mp4\n"
               "  webcam_client.py --config cameras.yaml\n\n"
               "A hub that requires tokens takes the camera token from FORMSYNC_CAMERA_TOKEN.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--hub", action="append", default=[], metavar="URL",
                   help="hub base URL (default http://127.0.0.1:8000); repeat for hubs sharing their state in "
                        "Redis: a camera whose hub is unreachable moves to the next")
    p.add_argument("--camera", action="append", default=[], metavar="ID=SOURCE",
                   help="a camera: device index, video file or stream URL; repeat for more")
    p.add_argument("--config", type=Path, help="YAML file with hub_url, transport and a cameras list")
    p.add_argument("--transport", choices=["http", "ws"], help="upload over HTTP POST (default) or one WebSocket")
    p.add_argument("--fps", type=float, help="target fps for every camera (never above the source's)")
    p.add_argument("--jpeg-quality", type=int, help="JPEG quality 1-100 (default 80)")
    p.add_argument("--max-width", type=int, help="downscale wider frames to this width in px (default 960)")
    p.add_argument("--loop", action=argparse.BooleanOptionalAction, default=None,
                   help="replay video files when they end (default: loop)")
    p.add_argument("--status-interval", type=float, help="seconds between status lines (default 5)")
    p.add_argument("--resync-interval", type=float, help="seconds between clock synchronisations (default 30)")
    p.add_argument("--heartbeat-interval", type=float,
                   help="seconds between heartbeats to the hub's monitor (default 2; lost after 3 missed)")
    p.add_argument("--start-at", type=parse_start_at, metavar="TIME",
                   help="file sources show frame 0 at this wall-clock time (hub clock): epoch seconds "
                        "or ISO 8601, e.g. 2026-11-21T10:00:00+00:00")
    p.add_argument("--clock-offset-ms", type=float, help="testing: shift this client's clock by N ms")
    p.add_argument("--net-delay-ms", type=float, help="testing: add a random 0..N ms delay to each direction")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


def config_from_args(args: argparse.Namespace):
    """Merge the YAML file (if any) with command-line options; the command line wins."""
    fields: dict = load_yaml(args.config) if args.config else {}
    per_camera = {k: v for k, v in {"fps": args.fps, "jpeg_quality": args.jpeg_quality,
                                    "max_width": args.max_width, "loop": args.loop}.items() if v is not None}
    cameras = [dict(c) if isinstance(c, dict) else c for c in fields.get("cameras", [])]
    for text in args.camera:
        camera_id, source = parse_camera_arg(text)
        cameras.append({"camera_id": camera_id, "source": source})
    if not cameras:
        raise ConfigError("no camera given: use --camera ID=SOURCE (e.g. --camera front=0) or --config FILE")
    fields["cameras"] = [{**c, **per_camera} if isinstance(c, dict) else c for c in cameras]
    if args.hub:
        fields["hub_url"], *more = args.hub
        if more:
            fields["fallback_hub_urls"] = more
    for key, value in (("transport", args.transport),
                       ("status_interval_s", args.status_interval), ("resync_interval_s", args.resync_interval),
                       ("heartbeat_interval_s", args.heartbeat_interval),
                       ("start_at_ns", args.start_at), ("clock_offset_ms", args.clock_offset_ms),
                       ("net_delay_ms", args.net_delay_ms)):
        if value is not None:
            fields[key] = value
    return build_config(fields)


def main(argv: list[str] | None = None) -> int:
    from clients.runner import run

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(message)s")
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        print(f"webcam_client.py: {exc}", file=sys.stderr)
        return 2
    try:
        return run(config)
    except KeyboardInterrupt:  # Ctrl-C before the signal handlers were in place: nothing to stop yet
        print("webcam_client.py: interrupted while starting", flush=True)
        return 0
