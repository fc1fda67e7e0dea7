"""Gaze drawing and formatting helpers (pure functions) used by the Gaze and Coach pages."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from formsync.wire.analysis import AnalysisOut
from formsync.wire.gaze import GazeOut
from streamlit_app.gaze.view import (
    arrow_endpoints,
    calibration_text,
    draw_gaze,
    format_attention,
    gaze_caption,
    gaze_chart,
    gaze_overlay_jpeg,
    gaze_trend_frame,
)
from tests.server.test_gaze_api import gaze


def test_arrow_points_where_the_gaze_goes():
    g = gaze(nose=[0.5, 0.5], face_box=[0.4, 0.3, 0.6, 0.7], direction={"yaw": 30.0, "pitch": 0.0})
    (x0, y0), (x1, y1) = arrow_endpoints(g, 1000, 500)
    assert (x0, y0) == (500, 250)
    # 1.2 face widths (200 px) x sin 30: 120 px to the right, level.
    assert (x1, y1) == (620, 250)
    (_, _), (x1, y1) = arrow_endpoints(gaze(nose=[0.5, 0.5], face_box=[0.4, 0.3, 0.6, 0.7],
                                            direction={"yaw": 0.0, "pitch": -30.0}), 1000, 500)
    assert (x1, y1) == (500, 370)  # looking down: the arrow points down the image
    assert arrow_endpoints(gaze(direction=None), 100, 100) is None


def test_draw_gaze_marks_the_face_and_leaves_the_input_alone():
    image = np.zeros((200, 300, 3), np.uint8)
    on = draw_gaze(image, gaze(direction={"yaw": 25.0, "pitch": -10.0}))
    assert image.sum() == 0 and on.sum() > 0
    assert (on.reshape(-1, 3) == (80, 200, 60)).all(axis=1).any()  # green arrow on target
    off = draw_gaze(image, gaze(on_target=False, direction={"yaw": 25.0, "pitch": -10.0}))
    assert (off.reshape(-1, 3) == (40, 120, 255)).all(axis=1).any()
    assert draw_gaze(image, gaze(face_found=False)).sum() == 0
    assert draw_gaze(image, None).sum() == 0


def test_overlay_on_a_jpeg_and_models_are_accepted():
    jpeg = cv2.imencode(".jpg", np.full((120, 160, 3), 90, np.uint8))[1].tobytes()
    view = GazeOut.model_validate(gaze())
    drawn = gaze_overlay_jpeg(jpeg, view)
    assert drawn != jpeg
    assert cv2.imdecode(np.frombuffer(drawn, np.uint8), cv2.IMREAD_COLOR).shape == (120, 160, 3)
    assert gaze_overlay_jpeg(jpeg, gaze(face_found=False)) == jpeg
    assert gaze_overlay_jpeg(b"not a jpeg", gaze()) == b"not a jpeg"


def test_texts():
    assert format_attention(gaze(attention=83.4)) == "83 %" and format_attention(None) == "–"
    assert gaze_caption(gaze()) == "gaze yaw -3°, pitch -8° · on target"
    assert gaze_caption(gaze(face_found=False, skipped="face_too_small")) == "face too small"
    assert gaze_caption(gaze(eyes_closed=True)).startswith("eyes closed")
    running = gaze(calibration={"state": "running", "progress": 0.4, "request_id": "r", "message": None})
    assert calibration_text(running) == ("info", "Calibrating: look at the centre of the screen… 40 %")
    assert "calibrating…" in gaze_caption(running)
    failed = gaze(calibration={"state": "failed", "progress": 1.0, "request_id": "r",
                               "message": "gaze moved"})
    assert calibration_text(failed) == ("error", "Calibration failed: gaze moved")
    done = gaze(target={"yaw": -4.0, "pitch": -8.0, "cone_deg": 15.0, "calibrated": True})
    assert calibration_text(done)[0] == "success" and "pitch -8.0°" in calibration_text(done)[1]


def analysis(seq, t_ns, **g):
    return AnalysisOut.model_validate({"camera_id": "c", "seq": seq, "capture_time_ns": t_ns,
                                       "pose_found": True, "gaze": None if g.get("off") else gaze(**g),
                                       "processing_ms": 1.0, "rep": {"count": 0, "phase": "top"},
                                       "hub_receive_time_ns": t_ns, "latency_ms": 0.0})


def test_trend_frame_and_chart():
    trend = [analysis(0, 0, direction={"yaw": 1.0, "pitch": -5.0}),
             analysis(1, 500_000_000, off=True),
             analysis(2, 1_000_000_000, direction=None, head=None, on_target=False, blink=True)]
    df = gaze_trend_frame(trend)
    assert list(df["t_s"]) == [-1.0, 0.0]
    assert df["gaze_pitch"].iloc[0] == -5.0 and np.isnan(df["gaze_pitch"].iloc[1])
    assert list(df["on_target"]) == [True, False] and list(df["blink"]) == [False, True]
    spec = gaze_chart(df, {"yaw": -4.0, "pitch": -8.0, "cone_deg": 15.0}).to_dict()
    assert [p["title"] for p in spec["vconcat"]] == ["Gaze yaw", "Gaze pitch"]
    assert gaze_trend_frame([]).empty


@pytest.mark.parametrize("bad", [{"attention": "lots"}, {"direction": {"yaw": "left"}}])
def test_gaze_model_rejects_garbage(bad):
    with pytest.raises(ValueError):
        GazeOut.model_validate(gaze(**bad))
