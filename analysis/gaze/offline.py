"""``python -m analysis gaze VIDEO [--json]``: per-frame head pose, gaze and on-target of a video.

Runs the live path frame by frame (``GazeAnalyzer.analyze``; with ``--pose`` the worker's
``CombinedAnalyzer``, face mesh cropped by the pose). Capture times are seq / fps.

``--json`` prints one object:
    {"video": str, "fps": float, "frames": [per-frame, ...], "segments": [...], "summary": {...},
     "target": {...}, "calibration": {...}}
per-frame = {"seq", "time_s", "face_found", "skipped", "head", "eyes", "direction", "ear", "eyes_closed",
"blink", "on_target", "attention"} (``analysis.gaze.analyzer`` gives units); segments are the runs of
equal on-target state: {"on_target", "start_s", "end_s", "frames"}.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from analysis.gaze.analyzer import GazeAnalyzer, GazeSettings
from analysis.video import frames, probe

PER_FRAME_KEYS = ("face_found", "skipped", "head", "eyes", "direction", "ear", "eyes_closed", "blink",
                  "on_target", "attention")


def segments(per_frame: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs of consecutive frames with the same ``on_target``: start and end times (s) and length."""
    out: list[dict[str, Any]] = []
    for f in per_frame:
        if out and out[-1]["on_target"] == f["on_target"]:
            out[-1]["end_s"] = f["time_s"]
            out[-1]["frames"] += 1
        else:
            out.append({"on_target": f["on_target"], "start_s": f["time_s"], "end_s": f["time_s"],
                        "frames": 1})
    return out


def gaze_video(path: str | Path, settings: GazeSettings | None = None, *, use_pose: bool = False,
               calibrate_at_s: float | None = None, calibrate_s: float | None = None) -> dict[str, Any]:
    """Gaze of every frame of a video (module doc for the shape). ``calibrate_at_s`` starts a
    calibration (``calibrate_s`` long) at that time in the video, as the dashboard button would.
    Raises FileNotFoundError / ValueError for an unreadable video."""
    info = probe(path)
    gaze = GazeAnalyzer(Path(path).stem, settings)
    pose = None
    if use_pose:
        from analysis.combined import CombinedAnalyzer
        from analysis.session import PoseAnalyzer

        pose = CombinedAnalyzer(PoseAnalyzer(Path(path).stem, history_frames=None), gaze)
    per_frame, last = [], None
    try:
        for image, t_ns, seq in frames(path):
            if calibrate_at_s is not None and not gaze.calibrator.running and \
                    gaze.calibrator.status.state == "idle" and t_ns >= calibrate_at_s * 1e9:
                gaze.start_calibration(calibrate_s, "offline")
            if pose is not None:
                last = pose.analyze(image, seq=seq, capture_time_ns=t_ns)["gaze"]
            else:
                last = gaze.analyze(image, seq=seq, capture_time_ns=t_ns)
            per_frame.append({"seq": seq, "time_s": round(t_ns / 1e9, 3),
                              **{k: last[k] for k in PER_FRAME_KEYS}})
        return {"video": str(path), "fps": info.fps, "frames": per_frame, "segments": segments(per_frame),
                "summary": gaze.summary(), "target": None if last is None else last["target"],
                "calibration": None if last is None else last["calibration"]}
    finally:
        (pose or gaze).close()


def cmd_gaze(args) -> int:
    settings = GazeSettings(cone_deg=args.cone, target_yaw=args.target_yaw, target_pitch=args.target_pitch)
    out = gaze_video(args.video, settings, use_pose=args.pose, calibrate_at_s=args.calibrate_at)
    if args.json:
        print(json.dumps(out))
        return 0
    s = out["summary"]
    print(f"{args.video}: {len(out['frames'])} frames, face in {s['face_frames']}, "
          f"on target {s['attention_pct']} % of the time, {s['blinks']} blinks; target {out['target']}")
    for seg in out["segments"]:
        state = {True: "on target", False: "off target"}[seg["on_target"]]
        print(f"  {seg['start_s']:6.2f}-{seg['end_s']:6.2f} s  {state:10} ({seg['frames']} frames)")
    return 0


def add_parser(sub) -> None:
    """Register ``gaze`` on the ``python -m analysis`` sub-command parser."""
    g = sub.add_parser("gaze", help="per-frame head pose, gaze and on-target of a video")
    g.add_argument("video", type=Path)
    g.add_argument("--json", action="store_true", help="print the per-frame results as one JSON object")
    g.add_argument("--pose", action="store_true",
                   help="run pose first and crop the face from it (the worker's path)")
    g.add_argument("--cone", type=float, default=GazeSettings.cone_deg,
                   help="on-target cone half-angle, degrees")
    g.add_argument("--target-yaw", type=float, default=0.0, help="target yaw, degrees (0: into the camera)")
    g.add_argument("--target-pitch", type=float, default=0.0, help="target pitch, degrees")
    g.add_argument("--calibrate-at", type=float, default=None, metavar="SECONDS",
                   help="calibrate the target from the 2 s of video starting here")
    g.set_defaults(func=cmd_gaze)
