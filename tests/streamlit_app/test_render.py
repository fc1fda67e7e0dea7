import base64
import time
from datetime import datetime, timezone

import pytest

from streamlit_app.models import HubConnection, LinkState
from streamlit_app.render import (
    age_ms, clock, connection_message, format_fps, format_ms, jpeg_img_html, rows, status_badge,
)

# 2024-01-02 03:04:05.678901234 UTC
T = int(datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp()) * 10**9 + 678_901_234


def test_clock_formats_hh_mm_ss_mmm():
    assert clock(T, timezone.utc) == "03:04:05.678"


def test_clock_truncates_milliseconds():
    assert clock(T - 678_901_234 + 999_999_999, timezone.utc) == "03:04:05.999"


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
    msg = connection_message(HubConnection(url, LinkState.UNREACHABLE, T, "refused", 3), timezone.utc)
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
