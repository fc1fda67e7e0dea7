"""Telling a video container from other uploads by its first bytes (the hub decodes no video:
the worker that builds the reference does, and reports a video it cannot read)."""

from __future__ import annotations

SNIFF_BYTES = 12
_ISO_BMFF_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def container_of(head: bytes) -> str | None:
    """``"mp4"``, ``"matroska"`` or ``"avi"`` for the first ``SNIFF_BYTES`` of a file in one of those
    containers, else None.

    MP4, MOV and M4V are ISO base media files: a sequence of boxes, each a 4-byte size and a 4-byte
    type, the first normally ``ftyp`` (ISO/IEC 14496-12 §4.3; older QuickTime files may open with
    ``moov``, ``mdat``, ``wide``, ``free``, ``skip`` or ``pnot``). Matroska and WebM open with the
    EBML magic ``1A 45 DF A3`` (RFC 9559 §4). AVI is a RIFF file of form type ``AVI `` (Microsoft
    AVI RIFF reference)."""
    if len(head) >= 8 and head[4:8] in _ISO_BMFF_BOXES:
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if len(head) >= 12 and head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "avi"
    return None
