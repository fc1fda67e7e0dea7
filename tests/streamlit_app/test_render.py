import base64
import time
from datetime import UTC, datetime

import pytest

from streamlit_app.models import HubConnection, LinkState
from streamlit_app.render import (
    age_ms,
    clock,
    connection_message,
    format_fps,
    format_ms,
    format_offset,
    frame_period_ms,
    jpeg_img_html,
    quality_badge,
    rows,
    status_badge,
    sync_quality,
)

# 2024-01-02 03:04:05.678901234 UTC
T = int(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()) * 10**9 + 678_901_234


def test_clock_formats_hh_mm_ss_mmm():
    assert clock(T, UTC) == "03:04:05.678"


def test_clock_truncates_milliseconds():
    assert clock(T - 678_901_234 + 999_999_999, UTC) == "03:04:05.999"


def test_clock_defaults_to_local_time():
    local = datetime.fromtimestamp(T // 10**9)
    assert clock(T) == f"{local:%H:%M:%S}.678"


def test_age_ms():
    assert age_ms(1_000_000_000, 1_250_500_000) == 250.5
    assert age_ms(2_000_000_000, 1_000_000_000) == -1000.0  # clock ahead: shown, not hidden


@pytest.mark.parametrize("ms, text", [
    (3.44, "3.4 ms"), (87.4, "87 ms"), (1234.0, "1,234 ms"), (-5.0, "-5.0 ms"),
])
def test_format_ms(ms, text):
    assert format_ms(ms) == text


def test_format_fps():
    assert format_fps(29.97) == "30.0 fps"


def test_status_badge():
    assert status_badge(True, True) == ":green-badge[online]"
    assert status_badge(False, True) == ":orange-badge[stale]"
    assert status_badge(True, False) == ":gray-badge[unknown]"


def test_rows():
    assert rows([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert rows([], 3) == []
    with pytest.raises(ValueError):
        rows([1], 0)


def test_connection_message():
    url = "http://127.0.0.1:1"
    assert connection_message(HubConnection(url, LinkState.CONNECTED, T)) is None
    assert "Connecting" in connection_message(HubConnection(url, LinkState.CONNECTING, T))
    msg = connection_message(HubConnection(url, LinkState.UNREACHABLE, T, "refused", 3), UTC)
    assert "unreachable" in msg and "since 03:04:05.678" in msg
    assert "refused" in msg and "3 failed attempts" in msg


def test_connection_message_now():
    # A real time in local zone round-trips through clock() without error.
    assert connection_message(HubConnection("http://h", LinkState.UNREACHABLE, time.time_ns(), "x", 1))


def test_jpeg_img_html_inlines_the_jpeg_and_escapes_the_alt_text():
    jpeg = b"\xff\xd8\xff\xe0 not really a jpeg \xff\xd9"
    tag = jpeg_img_html(jpeg, 'cam "a" <b>')
    src = tag.split('src="', 1)[1].split('"', 1)[0]
    assert src.startswith("data:image/jpeg;base64,")
    assert base64.b64decode(src.split(",", 1)[1]) == jpeg
    assert 'alt="cam &quot;a&quot; &lt;b&gt;"' in tag


@pytest.mark.parametrize("offset, uncertainty, text", [
    (350.2, 0.4, "+350 ms ± 0.4 ms"),
    (-800.0, 1.25, "-800 ms ± 1.2 ms"),
    (0.0, 0.0, "+0.0 ms ± 0.0 ms"),
    (3.0, None, "+3.0 ms ± ?"),
    (None, None, "not synchronised"),
    (None, 0.5, "not synchronised"),
])
def test_format_offset(offset, uncertainty, text):
    assert format_offset(offset, uncertainty) == text


def test_frame_period_is_the_fastest_cameras():
    assert frame_period_ms([25.0, 50.0]) == 20.0
    assert frame_period_ms([0.0, 25.0]) == 40.0  # a camera with no rate yet is ignored
    assert frame_period_ms([]) == pytest.approx(1000 / 30)
    assert frame_period_ms([0.0], default_fps=10) == 100.0


# A 40 ms period (25 fps) keeps the bounds exact: quarter 10 ms, half 20 ms; the uncertainty
# counts twice (two clocks erring in opposite directions), so its bounds are 5 ms and 10 ms.
P = 40.0
EPS = 1e-6


@pytest.mark.parametrize("spread, uncertainty, label", [
    (0.0, 0.0, "good"),
    (10.0, 5.0, "good"),             # both exactly on the quarter-frame bound
    (10.0 + EPS, 0.0, "fair"),       # spread just past a quarter frame
    (0.0, 5.0 + EPS, "fair"),        # uncertainty just past it
    (20.0, 10.0, "fair"),            # both exactly on the half-frame (pairing) bound
    (20.0 + EPS, 0.0, "poor"),       # spread just past half a frame
    (0.0, 10.0 + EPS, "poor"),       # uncertainty just past it
    (0.0, None, "poor"),             # a clock offset unknown
])
def test_sync_quality_thresholds(spread, uncertainty, label):
    got, colour, why = sync_quality(spread, P, uncertainty)
    assert got == label
    assert colour == {"good": "green", "fair": "orange", "poor": "red"}[label]
    assert why and why.endswith(".")


def test_sync_quality_at_30_fps_pairs_within_16_7_ms():
    period = frame_period_ms([30.0])
    assert sync_quality(16.6, period, 0.5)[0] == "fair"
    assert sync_quality(16.7, period, 0.5)[0] == "poor"
    assert sync_quality(8.0, period, 0.5)[0] == "good"
    assert "unknown" in sync_quality(1.0, period, None)[2]
    with pytest.raises(ValueError):
        sync_quality(1.0, 0.0, 0.5)


def test_quality_badge():
    assert quality_badge("good", "green") == ":green-badge[good]"
