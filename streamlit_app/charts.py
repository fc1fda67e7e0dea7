"""Line charts cheap enough for pages that rerun every second or faster.

``st.line_chart`` builds an Altair chart and validates its whole Vega-Lite spec against the JSON
schema on every run: about 40 ms a chart on an idle 2-core machine, and most of the Coach page's
run time (profiled with py-spy). A plain Vega-Lite spec handed to ``st.vega_lite_chart`` draws the
same lines in about 3 ms.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st


def line_spec(x_title: str, y_title: str, height: int, x_type: str = "quantitative") -> dict[str, Any]:
    """Vega-Lite spec of one line per ``series`` over ``x`` (data: ``long_form``), legend below;
    ``x_type`` "quantitative" (numbers) or "temporal" (times, shown in the browser's time zone)."""
    x_format = "%H:%M:%S" if x_type == "temporal" else ".1f"
    return {
        "mark": {"type": "line", "interpolate": "linear"},
        "height": height,
        "encoding": {
            "x": {"field": "x", "type": x_type, "title": x_title},
            "y": {"field": "value", "type": "quantitative", "title": y_title, "scale": {"zero": False}},
            "color": {"field": "series", "type": "nominal", "title": None,
                      "legend": {"orient": "bottom"}},
            "tooltip": [{"field": "series", "type": "nominal"},
                        {"field": "x", "type": x_type, "title": x_title, "format": x_format},
                        {"field": "value", "type": "quantitative", "title": y_title, "format": ".1f"}],
        },
    }


def long_form(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (index: x, one column per series) as rows of ``x``, ``series``, ``value``; empty
    cells dropped. Long form needs no field-name escaping in the spec, so any column name (process
    ids with ``:`` or ``.``) is a valid series name."""
    long = frame.rename_axis("x").reset_index().melt(id_vars="x", var_name="series", value_name="value")
    return long.dropna(subset=["value"])


def line_chart(frame: pd.DataFrame, *, x_title: str, y_title: str, height: int = 200) -> None:
    """Draw ``frame``'s columns as lines over its index (numbers or times), as ``st.line_chart`` does."""
    x_type = "temporal" if isinstance(frame.index, pd.DatetimeIndex) else "quantitative"
    st.vega_lite_chart(long_form(frame), line_spec(x_title, y_title, height, x_type), width="stretch")
