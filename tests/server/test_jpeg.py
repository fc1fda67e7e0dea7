import pytest

from server.errors import ApiError
from server.jpeg import jpeg_size
from tests.conftest import synthetic_jpeg


def test_size_of_a_real_jpeg(clip_jpegs):
    assert jpeg_size(clip_jpegs[0]) == (640, 360)
    assert jpeg_size(synthetic_jpeg(size=(48, 64))) == (64, 48)


@pytest.mark.parametrize(
    "data, status, code",
    [
        (b"", 422, "empty_frame"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, 415, "unsupported_media_type"),
        (b"\xff\xd8\xff" + b"\0" * 64, 422, "invalid_jpeg"),
    ],
)
def test_bad_bodies_are_named(data, status, code):
    with pytest.raises(ApiError) as err:
        jpeg_size(data)
    assert (err.value.status, err.value.code) == (status, code)


def test_truncated_jpeg_header_is_invalid():
    with pytest.raises(ApiError) as err:
        jpeg_size(synthetic_jpeg()[:20])
    assert err.value.code == "invalid_jpeg"
