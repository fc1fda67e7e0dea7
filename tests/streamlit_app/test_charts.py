import numpy as np
import pandas as pd

from streamlit_app.charts import line_spec, long_form


def test_long_form_keeps_every_value_under_its_series_and_drops_gaps():
    frame = pd.DataFrame({"knee": [90.0, 80.0, np.nan], "worker:host.lan:analysis": [1.0, 2.0, 3.0]},
                         index=[-1.0, -0.5, 0.0])
    long = long_form(frame)
    assert list(long.columns) == ["x", "series", "value"]
    assert len(long) == 5  # the NaN is not drawn
    got = {(r.series, r.x): r.value for r in long.itertuples()}
    assert got[("knee", -0.5)] == 80.0
    assert got[("worker:host.lan:analysis", 0.0)] == 3.0


def test_spec_reads_the_long_form_columns_and_time_axes():
    spec = line_spec("seconds", "degrees", 180)
    enc = spec["encoding"]
    assert (enc["x"]["field"], enc["y"]["field"], enc["color"]["field"]) == ("x", "value", "series")
    assert enc["x"]["type"] == "quantitative" and spec["height"] == 180
    assert line_spec("time", "%", 200, "temporal")["encoding"]["x"]["type"] == "temporal"


def test_datetime_index_survives_long_form():
    index = pd.to_datetime([1_700_000_000_000_000_000, 1_700_000_001_000_000_000], unit="ns", utc=True)
    long = long_form(pd.DataFrame({"cpu": [10.0, 20.0]}, index=index))
    assert isinstance(long["x"].dtype, pd.DatetimeTZDtype)
