"""The reference bundle: deterministic data, and bundles refused before they are unpacked."""

import io
import zipfile

import numpy as np
import pytest

from formsync.reference_bundle import BundleError, content_hash, read_data, unpack, write_npz


def test_the_same_arrays_give_the_same_bytes_and_hash():
    arrays = {"seq": np.arange(5, dtype=np.int64), "angles": np.ones((5, 7), np.float32)}
    first, again = write_npz(arrays), write_npz({k: v.copy() for k, v in arrays.items()})
    assert first == again and content_hash(first) == content_hash(again)
    changed = write_npz({**arrays, "seq": np.arange(1, 6, dtype=np.int64)})
    assert content_hash(changed) != content_hash(first)
    back = read_data(first)
    assert set(back) == set(arrays) and np.array_equal(back["angles"], arrays["angles"])


def deflated(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return out.getvalue()


def test_a_bundle_that_would_inflate_past_the_limit_is_refused_unread():
    bomb = deflated({"reference.json": b"{}", "arrays.npz": b"\x00" * (8 << 20)})
    assert len(bomb) < 64 << 10
    with pytest.raises(BundleError) as refused:
        unpack(bomb, max_unpacked_bytes=1 << 20)
    assert refused.value.code == "invalid_bundle" and refused.value.details["unpacked_bytes"] > 8 << 20


def test_data_that_would_inflate_past_the_limit_or_holds_pickles_is_refused():
    big = write_npz({"seq": np.zeros(1 << 20, np.int64)})
    with pytest.raises(BundleError, match="unpack to"):
        read_data(big, max_bytes=1 << 20)
    pickled = io.BytesIO()
    np.savez(pickled, seq=np.array([{"a": 1}], dtype=object))
    with pytest.raises(BundleError) as refused:
        read_data(pickled.getvalue())
    assert refused.value.code == "invalid_data"


def test_too_many_pictures_and_stray_members_are_refused():
    many = deflated({"reference.json": b"{}", "arrays.npz": b"", **{f"frames/{k}.jpg": b"" for k in range(11)}})
    with pytest.raises(BundleError, match="11 pictures"):
        unpack(many, max_pictures=10)
    for stray in ("frames/01.jpg", "frames/1.png", "frames/x.jpg", "../arrays.npz", "frames/sub/1.jpg"):
        with pytest.raises(BundleError) as refused:
            unpack(deflated({"reference.json": b"{}", "arrays.npz": b"", stray: b""}))
        assert refused.value.details["unexpected"] == [stray], stray
