"""Drawing and formatting of gaze results (``GazeOut`` dicts, docs/api.md) for the dashboard.

Pure functions of a frame and a result: no Streamlit here, so they are tested directly and any page
can call them. ``render_gaze_indicator`` (the one Streamlit call) is the per-camera widget the Coach
page shows: the frame with a gaze arrow on the face and the attention %.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import cv2
import numpy as np
import pandas as pd

ON_TARGET_BGR = (80, 200, 60)
OFF_TARGET_BGR = (40, 120, 255)
NO_GAZE_BGR = (160, 160, 160)
ARROW_FACE_WIDTHS = 1.2
"""Arrow length for a gaze straight across the image plane, in face widths."""


def as_dict(gaze: Any) -> dict[str, Any] | None:
    """A ``GazeOut`` (formsync.wire.gaze) or its dict as a plain dict; None stays None."""
    if gaze is None:
        return None
    return gaze.model_dump() if hasattr(gaze, "model_dump") else dict(gaze)


Point = tuple[int, int]


def arrow_endpoints(gaze: Mapping[str, Any], width: int, height: int) -> tuple[Point, Point] | None:
    """Pixel start (the nose tip) and end of the gaze arrow for a frame of ``width`` x ``height``;
    None when the result has no face or no gaze direction.

    The arrow is the gaze direction projected on the image: x = sin(yaw) cos(pitch) to the right,
    y = sin(pitch) upwards, so looking into the camera gives a dot and looking sideways a long arrow.
    """
    direction, nose, box = gaze.get("direction"), gaze.get("nose"), gaze.get("face_box")
    if not direction or not nose or not box:
        return None
    yaw, pitch = math.radians(direction["yaw"]), math.radians(direction["pitch"])
    length = ARROW_FACE_WIDTHS * (box[2] - box[0]) * width
    x0, y0 = nose[0] * width, nose[1] * height
    dx = math.sin(yaw) * math.cos(pitch) * length
    dy = -math.sin(pitch) * length
    return (round(x0), round(y0)), (round(x0 + dx), round(y0 + dy))


def draw_gaze(image_bgr: np.ndarray, gaze: Mapping[str, Any] | None) -> np.ndarray:
    """A copy of ``image_bgr`` (H, W, 3) with the face box and gaze arrow drawn, green on target,
    orange off target; unchanged copy when there is no face."""
    out = image_bgr.copy()
    gaze = as_dict(gaze)
    if not gaze or not gaze.get("face_found"):
        return out
    h, w = out.shape[:2]
    colour = ON_TARGET_BGR if gaze.get("on_target") else OFF_TARGET_BGR
    thick = max(1, round(w / 320))
    box = gaze.get("face_box")
    if box:
        cv2.rectangle(out, (round(box[0] * w), round(box[1] * h)), (round(box[2] * w), round(box[3] * h)),
                      NO_GAZE_BGR, thick)
    ends = arrow_endpoints(gaze, w, h)
    if ends is not None:
        start, end = ends
        cv2.circle(out, start, 2 * thick, colour, -1)
        if start != end:
            cv2.arrowedLine(out, start, end, colour, 2 * thick, tipLength=0.25)
    return out


def gaze_overlay_jpeg(jpeg: bytes, gaze: Mapping[str, Any] | None, quality: int = 80) -> bytes:
    """``draw_gaze`` on a JPEG, re-encoded; the input unchanged when it does not decode or has no face."""
    gaze = as_dict(gaze)
    if not gaze or not gaze.get("face_found"):
        return jpeg
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return jpeg
    ok, buf = cv2.imencode(".jpg", draw_gaze(image, gaze), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes() if ok else jpeg


def format_attention(gaze: Mapping[str, Any] | None) -> str:
    """``"83 %"``, or ``"–"`` without a score yet."""
    gaze = as_dict(gaze)
    value = None if not gaze else gaze.get("attention")
    return "–" if value is None else f"{value:.0f} %"


def gaze_caption(gaze: Mapping[str, Any] | None) -> str:
    """One line: where the person looks (or why nothing is known), and the calibration state."""
    gaze = as_dict(gaze)
    if not gaze:
        return "no gaze result"
    if not gaze.get("face_found"):
        why = {"no_person": "no person", "no_face": "face not visible", "face_too_small": "face too small"}
        return why.get(gaze.get("skipped") or "", "no face found")
    d = gaze.get("direction")
    where = "eyes closed" if gaze.get("eyes_closed") else (
        "gaze unknown" if not d else f"gaze yaw {d['yaw']:+.0f}°, pitch {d['pitch']:+.0f}°")
    target = "on target" if gaze.get("on_target") else "off target"
    cal = gaze.get("calibration") or {}
    tail = " · calibrating…" if cal.get("state") == "running" else (
        " · calibrated" if (gaze.get("target") or {}).get("calibrated") else "")
    return f"{where} · {target}{tail}"


def render_gaze_indicator(camera_id: str, gaze: Mapping[str, Any] | None, jpeg: bytes | None = None) -> None:
    """Streamlit widget for one camera: the frame with the gaze arrow (when ``jpeg`` is given), the
    attention % as a metric and ``gaze_caption``. ``gaze`` is the ``gaze`` field of the camera's
    latest ``AnalysisOut`` (None: gaze off or not yet known)."""
    import streamlit as st

    from streamlit_app.render import jpeg_img_html

    if jpeg is not None:
        st.html(jpeg_img_html(gaze_overlay_jpeg(jpeg, gaze), f"{camera_id} gaze"))
    st.metric(f"{camera_id} attention", format_attention(gaze),
              help="Share of the last 10 s the gaze was within the target cone (on the screen).")
    st.caption(gaze_caption(gaze))


def calibration_text(gaze: Any) -> tuple[str, str]:
    """(level, text) of the calibration state for a page: level is "info", "success", "error" or
    "none" (nothing to say)."""
    gaze = as_dict(gaze) or {}
    cal, target = gaze.get("calibration") or {}, gaze.get("target") or {}
    state = cal.get("state")
    if state == "running":
        done = 100 * cal.get("progress", 0)
        return "info", f"Calibrating: look at the centre of the screen… {done:.0f} %"
    if state == "failed":
        return "error", f"Calibration failed: {cal.get('message') or 'no reason given'}"
    if target.get("calibrated"):
        return "success", (f"Target calibrated at yaw {target['yaw']:+.1f}°, pitch {target['pitch']:+.1f}° "
                           f"(cone ±{target['cone_deg']:.0f}°).")
    if target:
        return "none", (f"Target: straight into the camera (cone ±{target.get('cone_deg', 15):.0f}°); "
                        "calibrate for a screen below or beside it.")
    return "none", ""


GAZE_COLUMNS = ["t_s", "gaze_yaw", "gaze_pitch", "head_yaw", "head_pitch", "on_target", "blink", "face_found"]


def gaze_trend_frame(trend: Sequence[Any]) -> pd.DataFrame:
    """Analysis results (``AnalysisOut``, oldest first) -> one row per result with gaze: ``t_s``
    (seconds before the newest, <= 0), gaze and head yaw/pitch (degrees, NaN when unknown),
    ``on_target``, ``blink`` and ``face_found``. Results without a gaze field are left out."""
    rows = []
    for r in trend:
        g = as_dict(getattr(r, "gaze", None))
        if g is None:
            continue
        d, h = g.get("direction") or {}, g.get("head") or {}
        rows.append({"t_ns": r.capture_time_ns,
                     "gaze_yaw": d.get("yaw", np.nan), "gaze_pitch": d.get("pitch", np.nan),
                     "head_yaw": h.get("yaw", np.nan), "head_pitch": h.get("pitch", np.nan),
                     "on_target": bool(g.get("on_target")), "blink": bool(g.get("blink")),
                     "face_found": bool(g.get("face_found"))})
    if not rows:
        return pd.DataFrame(columns=GAZE_COLUMNS)
    df = pd.DataFrame(rows)
    df["t_s"] = (df["t_ns"] - df["t_ns"].max()) / 1e9
    return df[GAZE_COLUMNS].astype({c: float for c in GAZE_COLUMNS[1:5]})


def gaze_chart(df: pd.DataFrame, target: Mapping[str, Any] | None) -> alt.VConcatChart:
    """Yaw and pitch over time, one panel each: the gaze (solid) and head (dashed) lines, the target
    band (target ± cone, shaded), a strip along the bottom that is green while on target, and a
    red rule at every blink."""
    target = target or {"yaw": 0.0, "pitch": 0.0, "cone_deg": 15.0}
    series = alt.Scale(domain=["gaze", "head"], range=["#1f77b4", "#999999"])
    dashes = alt.Scale(domain=["gaze", "head"], range=[[1, 0], [4, 3]])
    on_off = alt.Scale(domain=[True, False], range=["#2ca02c", "#ff7f0e"])
    x = alt.X("t_s:Q", title="seconds (0 = newest)")
    panels = []
    for axis in ("yaw", "pitch"):
        centre, cone = float(target[axis]), float(target["cone_deg"])
        lo, hi = centre - cone, centre + cone
        bottom, top = min(lo, -45.0) - 5, max(hi, 45.0) + 5
        long = df.melt(id_vars=["t_s"], value_vars=[f"gaze_{axis}", f"head_{axis}"], var_name="series",
                       value_name="deg").dropna()
        long["series"] = long["series"].str.replace(f"_{axis}", "", regex=False)
        band = alt.Chart(pd.DataFrame({"lo": [lo], "hi": [hi]})).mark_rect(opacity=0.15, color="green")
        band = band.encode(y=alt.Y("lo:Q"), y2="hi:Q")
        lines = alt.Chart(long).mark_line().encode(
            x=x, y=alt.Y("deg:Q", title=f"{axis} (°)", scale=alt.Scale(domain=[bottom, top])),
            color=alt.Color("series:N", scale=series), strokeDash=alt.StrokeDash("series:N", scale=dashes))
        strip = alt.Chart(df).mark_tick(thickness=3, size=10).encode(
            x=x, y=alt.datum(bottom + 2),
            color=alt.Color("on_target:N", scale=on_off, legend=alt.Legend(title="on target")))
        blinks = alt.Chart(df[df["blink"]]).mark_rule(color="red").encode(x=x)
        panels.append(alt.layer(band, lines, strip, blinks).properties(height=180, title=f"Gaze {axis}"))
    return alt.vconcat(*panels).resolve_scale(color="independent")
