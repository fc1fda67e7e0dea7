"""Command line: ``python -m analysis {reps,evaluate,reference,gaze}``.

    python -m analysis reps VIDEO [--json] [--reference NAME]
    python -m analysis gaze VIDEO [--json] [--pose] [--calibrate-at SECONDS]
    python -m analysis evaluate [--json] [--split dev|test|all] [--clips] [--jobs N] [--no-cache]
    python -m analysis reference build VIDEO --name NAME
    python -m analysis reference build-default
    python -m analysis reference list
    python -m analysis reference upload NAME [--hub URL]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from analysis.gaze import offline as gaze_offline
from analysis.offline import analyze_video
from analysis.paths import squat_dir
from analysis.reference import ReferenceLibrary
from analysis.session import PoseAnalyzer


def _analyze(video: Path, reference, progress: bool) -> dict:
    with PoseAnalyzer(Path(video).stem, reference=reference, history_frames=None) as analyzer:
        analyze_video(video, analyzer, progress=progress)
        return analyzer.summary()


def cmd_reps(args) -> int:
    lib = ReferenceLibrary(args.library)
    ref = None if args.no_reference else lib.reference_set(args.reference)
    summary = _analyze(Path(args.video), ref, progress=not args.json)
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{args.video}: {summary['reps']} reps, mean score {summary['mean_score']}, view {summary['view']}")
        for r in summary["reps_detail"]:
            faults = ", ".join(f"{f['name']} ({f['severity']}, {f['confidence']} confidence, "
                               f"{'; '.join(_moment(m) for m in f['moments'])})" for f in r["faults"]) or "-"
            print(f"  rep {r['rep']}: {r['view']} view, {r['start_time_ns'] / 1e9:.2f}-{r['end_time_ns'] / 1e9:.2f} s, "
                  f"score {r['score']} (reference {r['reference']}), faults: {faults}")
    return 0


def _moment(m: dict) -> str:
    return f"{m['phase']} {m['start_time_ns'] / 1e9:.2f}-{m['end_time_ns'] / 1e9:.2f} s"


def cmd_evaluate(args) -> int:
    from analysis.evaluation import report
    from analysis.evaluation.dataset import clips_in
    from analysis.evaluation.run import run

    if not squat_dir().exists():
        print(f"footage not found at {squat_dir()} (set FORMSYNC_DATA_DIR)", file=sys.stderr)
        return 2
    clips = clips_in(args.split)
    records = run(clips, jobs=args.jobs, use_cache=not args.no_cache, library_root=args.library,
                  progress=not args.json)
    print(report.to_json(records) if args.json else report.text(records, per_clip=args.clips))
    return 0


def cmd_reference(args) -> int:
    lib = ReferenceLibrary(args.library)
    if args.ref_cmd == "upload":
        return _upload(lib, args.name, args.hub)
    if args.ref_cmd == "list":
        for name in lib.names():
            ref = lib.load(name)
            print(f"{name}\t{ref.view}\t{len(ref.reps)} reps\t{ref.source}")
        return 0
    refs = lib.build_default(progress=True) if args.ref_cmd == "build-default" else [lib.build(
        args.video, args.name, progress=True)]
    for ref in refs:
        print(f"reference {ref.name!r}: {len(ref.frames)} frames, {len(ref.reps)} reps, view {ref.view} "
              f"-> {lib.path(ref.name)}")
    return 0


def _upload(lib: ReferenceLibrary, name: str, hub_url: str) -> int:
    """Put library reference ``name`` on the hub (worker token from FORMSYNC_WORKER_TOKEN)."""
    from formsync.auth import WORKER_TOKEN_ENV, token_from_env
    from formsync.hub_client import HubRejected, HubUnreachable, call_hub
    from formsync.reference_bundle import pack_folder

    lib.load(name)  # FileNotFoundError / ValueError: not a reference of this format
    bundle = pack_folder(lib.path(name))
    try:
        meta = call_hub(hub_url, lambda hub: hub.put_reference(name, bundle),
                        token=token_from_env(WORKER_TOKEN_ENV), timeout_s=120)
    except (HubUnreachable, HubRejected) as exc:
        print(f"error: the hub did not take {name!r}: {exc}", file=sys.stderr)
        return 2
    print(f"reference {name!r} on {hub_url}: {meta.frames} frames, {len(meta.reps)} reps, view {meta.view}, "
          f"hash {meta.content_hash}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m analysis", description="FormSync offline squat analysis")
    p.add_argument("--library", type=Path, default=None,
                   help="reference library folder (default: $FORMSYNC_REFERENCE_DIR or <repo>/var/references)")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("reps", help="count and score the reps in a video")
    r.add_argument("video", type=Path)
    r.add_argument("--json", action="store_true", help='print {"reps": N, "reps_detail": [...], "faults": [...]}')
    r.add_argument("--reference", help="reference name (default: the default reference, built if missing); "
                   "a camera whose view differs is scored against the library's reference of its view")
    r.add_argument("--no-reference", action="store_true", help="count reps and faults only, no scores")
    r.set_defaults(func=cmd_reps)
    e = sub.add_parser("evaluate", help="faults, rep counts and scores against the labelled clips")
    e.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    e.add_argument("--split", choices=("dev", "test", "all"), default="all",
                   help="clips to run (figures are printed per split either way; default all)")
    e.add_argument("--clips", action="store_true", help="also print a line per clip")
    e.add_argument("--jobs", type=int, default=None, help="processes (default: one per core)")
    e.add_argument("--no-cache", action="store_true",
                   help="run MediaPipe on every frame instead of replaying cached poses (var/pose-cache)")
    e.set_defaults(func=cmd_evaluate)
    ref = sub.add_parser("reference", help="manage the reference library")
    rs = ref.add_subparsers(dest="ref_cmd", required=True)
    b = rs.add_parser("build", help="build a reference from a video")
    b.add_argument("video", type=Path)
    b.add_argument("--name", required=True)
    rs.add_parser("build-default", help="build the default reference of each view (analysis/paths.py)")
    rs.add_parser("list", help="list stored references: name, view, reps, source video")
    u = rs.add_parser("upload", help="put a library reference on a hub (worker token: FORMSYNC_WORKER_TOKEN)")
    u.add_argument("name")
    u.add_argument("--hub", default="http://127.0.0.1:8000", help="hub base URL")
    ref.set_defaults(func=cmd_reference)
    gaze_offline.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
