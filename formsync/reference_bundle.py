"""A reference as one file: how a worker uploads it and how the hub checks it before storing it.

A bundle is a ZIP archive (members stored, not compressed: the data is already deflated and the
pictures are JPEGs) with exactly

    reference.json     ``formsync.wire.references.ReferenceContent``
    arrays.npz         the per-frame data, ``DATA_ARRAYS`` (T = ``frames`` rows, in seq order)
    frames/<seq>.jpg   a picture of video frame ``seq`` (any subset of the video's frames)

the same layout as a folder of the worker's reference library (``analysis.reference``). The
content hash is the SHA-256 of ``arrays.npz`` as stored; ``write_npz`` writes it byte for byte the
same for the same arrays (fixed member times), so a reference built again from the same video keeps
its hash.

Everything here raises ``BundleError`` (with a machine-readable ``code``) on bad input and nothing
else; it needs numpy and the standard library only.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from formsync.wire.references import ReferenceContent

META_FILE = "reference.json"
DATA_FILE = "arrays.npz"
FRAMES_DIR = "frames"
LANDMARKS = 33
DATA_ARRAYS: dict[str, tuple[str, tuple[int | str, ...]]] = {
    "seq": ("int64", ()),
    "capture_time_ns": ("int64", ()),
    "landmarks": ("float32", (LANDMARKS, 4)),
    "world_landmarks": ("float32", (LANDMARKS, 4)),
    "image_size": ("int32", (2,)),
    "angles": ("float32", ("angles",)),
    "hip_height": ("float32", ()),
}
"""name -> (dtype, shape after the first axis of T rows). seq: video frame index, strictly
increasing; capture_time_ns: seq / fps in ns; landmarks: MediaPipe image landmarks [x, y, z,
visibility] (x, y normalised to the frame); world_landmarks: metres, hip-centred; image_size:
(width, height) px; angles: degrees, one column per ``angle_names`` entry; hip_height: leg lengths."""
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a ZIP can say: members carry no build time
JPEG_MAGIC = b"\xff\xd8\xff"


class BundleError(ValueError):
    """A bundle or its data that cannot be a reference. ``code``: ``invalid_bundle`` (not a ZIP of
    the layout above), ``invalid_content`` (``reference.json``), ``invalid_data`` (the arrays),
    ``invalid_picture`` (a frame that is not a JPEG); ``details`` says what exactly."""

    def __init__(self, code: str, message: str, **details) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


@dataclass(frozen=True)
class Bundle:
    content: ReferenceContent
    data: bytes
    frames: Mapping[int, bytes] = field(repr=False)

    @property
    def content_hash(self) -> str:
        return content_hash(self.data)


def content_hash(data: bytes) -> str:
    """SHA-256 of the per-frame data, 64 hex digits."""
    return hashlib.sha256(data).hexdigest()


def write_npz(arrays: Mapping[str, np.ndarray]) -> bytes:
    """``numpy.savez_compressed`` with fixed member times: the same arrays give the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, value in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)
    return out.getvalue()


def read_data(data: bytes, max_bytes: int = 1 << 30) -> dict[str, np.ndarray]:
    """The arrays of ``arrays.npz`` (no pickles). Raises BundleError ``invalid_data`` when it is
    not an npz, or its members would unpack to more than ``max_bytes``."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            size = sum(i.file_size for i in zf.infolist())
            if size > max_bytes:
                raise BundleError("invalid_data", f"the data would unpack to {size} bytes, over {max_bytes}",
                                  unpacked_bytes=size, limit=max_bytes)
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except BundleError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise BundleError("invalid_data", f"the per-frame data is not a readable npz: {exc}") from None


def check_data(arrays: Mapping[str, np.ndarray], content: ReferenceContent) -> None:
    """Raises BundleError ``invalid_data`` unless ``arrays`` are ``DATA_ARRAYS`` with ``content.frames``
    rows, seqs strictly increasing from 0 up, and every rep's seqs among them."""
    missing = sorted(set(DATA_ARRAYS) - set(arrays))
    extra = sorted(set(arrays) - set(DATA_ARRAYS))
    if missing or extra:
        raise BundleError("invalid_data", "the data must hold exactly the reference arrays",
                          missing=missing, unexpected=extra)
    rows = content.frames
    for name, (dtype, tail) in DATA_ARRAYS.items():
        a = arrays[name]
        shape = (rows, *(len(content.angle_names) if d == "angles" else d for d in tail))
        if a.dtype != np.dtype(dtype) or a.shape != shape:
            raise BundleError("invalid_data", f"{name} must be {dtype} {shape}, not {a.dtype} {a.shape}",
                              array=name, expected=[dtype, list(shape)], got=[str(a.dtype), list(a.shape)])
    seq = arrays["seq"]
    if seq[0] < 0 or (rows > 1 and not np.all(np.diff(seq) > 0)):
        raise BundleError("invalid_data", "seq must be non-negative and strictly increasing", array="seq")
    known = set(seq.tolist())
    for rep in content.reps:
        if not (rep.start <= rep.bottom <= rep.end) or not {rep.start, rep.bottom, rep.end} <= known:
            raise BundleError("invalid_data", f"rep {rep.index}'s seqs are not frames of the data",
                              rep=rep.index, seqs=[rep.start, rep.bottom, rep.end])


def pack(content: bytes, data: bytes, frames: Mapping[int, bytes]) -> bytes:
    """A bundle of ``reference.json`` text, ``arrays.npz`` bytes and pictures by seq."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(zipfile.ZipInfo(META_FILE, _ZIP_TIME), content)
        zf.writestr(zipfile.ZipInfo(DATA_FILE, _ZIP_TIME), data)
        for seq in sorted(frames):
            zf.writestr(zipfile.ZipInfo(f"{FRAMES_DIR}/{seq}.jpg", _ZIP_TIME), frames[seq])
    return out.getvalue()


def pack_folder(folder: Path) -> bytes:
    """The bundle of a reference library folder (``reference.json``, ``arrays.npz``, ``frames/``).
    Raises FileNotFoundError when the folder holds no reference."""
    frames = {}
    pictures = folder / FRAMES_DIR
    if pictures.is_dir():
        for p in pictures.glob("*.jpg"):
            if p.stem.isdigit():
                frames[int(p.stem)] = p.read_bytes()
    return pack((folder / META_FILE).read_bytes(), (folder / DATA_FILE).read_bytes(), frames)


def _seq_of(member: str) -> int | None:
    """``frames/12.jpg`` -> 12; None for any other name (``frames/012.jpg`` included)."""
    prefix, _, rest = member.partition("/")
    stem, dot, ext = rest.partition(".")
    if prefix != FRAMES_DIR or not dot or ext != "jpg" or not stem.isdigit() or str(int(stem)) != stem:
        return None
    return int(stem)


def unpack(body: bytes, *, max_pictures: int = 100_000, max_unpacked_bytes: int = 1 << 30) -> Bundle:
    """Read and check a whole bundle: its layout, ``reference.json``, the data and every picture's
    JPEG signature. Raises BundleError (nothing else) on any problem."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(body))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise BundleError("invalid_bundle", f"the body is not a ZIP archive: {exc}") from None
    with zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        pictures = {n: _seq_of(n) for n in names if n not in (META_FILE, DATA_FILE)}
        odd = sorted(n for n, seq in pictures.items() if seq is None)
        if odd or META_FILE not in names or DATA_FILE not in names or len(set(names)) != len(names):
            raise BundleError("invalid_bundle", f"a bundle holds {META_FILE}, {DATA_FILE} and "
                              f"{FRAMES_DIR}/<seq>.jpg only, each once", unexpected=odd[:20],
                              missing=[n for n in (META_FILE, DATA_FILE) if n not in names])
        if len(pictures) > max_pictures:
            raise BundleError("invalid_bundle", f"{len(pictures)} pictures, over {max_pictures}",
                              pictures=len(pictures), limit=max_pictures)
        unpacked = sum(i.file_size for i in infos)
        if unpacked > max_unpacked_bytes:
            raise BundleError("invalid_bundle", f"the bundle would unpack to {unpacked} bytes, over "
                              f"{max_unpacked_bytes}", unpacked_bytes=unpacked, limit=max_unpacked_bytes)
        try:
            meta, data = zf.read(META_FILE), zf.read(DATA_FILE)
            frames = {seq: zf.read(n) for n, seq in pictures.items()}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise BundleError("invalid_bundle", f"a member does not read: {exc}") from None
    try:
        content = ReferenceContent.model_validate(json.loads(meta))
    except (ValueError, ValidationError) as exc:
        problems = exc.errors(include_url=False) if isinstance(exc, ValidationError) else str(exc)
        raise BundleError("invalid_content", f"{META_FILE} is not a reference's content",
                          problems=json.loads(json.dumps(problems, default=str))) from None
    check_data(read_data(data, max_unpacked_bytes), content)
    bad = sorted(seq for seq, jpg in frames.items() if not jpg.startswith(JPEG_MAGIC))
    if bad:
        raise BundleError("invalid_picture", "pictures must be JPEGs", seqs=bad[:20])
    return Bundle(content, data, frames)
