"""Photo metadata (EXIF, XMP, ICC profile) carried from an input to the images made from it (one
module of about 410 lines: what is read is what is written back, each format's both ways together).

:func:`read_metadata` takes what a photo says about itself, from the same bytes as the pixels;
:func:`skyseg_core.io.save_image` writes it back (``metadata=``; :func:`png_with_metadata`,
:func:`tiff_with_metadata`, :func:`fitted`). What changes on the way, and why:

- The orientation (EXIF, and XMP ``tiff:Orientation``) becomes 1: skyseg stores pixels
  upright (:func:`~skyseg_core.io.load_image` applies the orientation), so keeping the old
  value would turn the photo a second time.
- The EXIF thumbnail (IFD1) is dropped: it shows the photo before the edit.
- From a TIFF, only the photo's own tags are kept (camera, lens, dates, author, GPS), not
  the tags that describe the old file's pixel layout (size, strips, compression).
- Everything else (camera, lens, exposure, dates, copyright, GPS, maker note bytes, XMP, the
  ICC profile) is kept as it was. A maker note whose vendor format uses offsets from the start
  of the file can lose its meaning when its block moves, as with other tools that rewrite EXIF.

Colour profiles are in :mod:`.profiles`, the EXIF and XMP clean-up in :mod:`.exif`.
"""

from __future__ import annotations

import dataclasses
import io as _io
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np

from ..errors import SkysegNote
from .bounds import _read_bytes, _without_pillow_limit, max_pixels_limit
from .exif import (
    _EXIF_IFD,
    _GPS_IFD,
    _ICC_TAG,
    _INTEROP_IFD,
    _TIFF_LAYOUT_TAGS,
    _XMP_TAG,
    _tiff_exif,
    clean_exif,
    upright_xmp,
)
from .formats import _available_formats
from .profiles import MAX_PROFILE_BYTES, is_valid_profile, profile_problem
from .raw import raw_exif


@dataclasses.dataclass(frozen=True)
class PhotoMetadata:
    """What a photo says about itself, ready to be written into an output.

    ``exif``: an EXIF block as Pillow reads and writes it (``b"Exif\\0\\0"`` and a TIFF
    structure), orientation 1, no thumbnail; ``xmp``: the XMP packet (UTF-8 XML);
    ``icc_profile``: the ICC profile. Each is ``b""`` when the photo has none.
    """

    exif: bytes = b""
    xmp: bytes = b""
    icc_profile: bytes = b""

    def __bool__(self) -> bool:
        return bool(self.exif or self.xmp or self.icc_profile)


EMPTY = PhotoMetadata()


def _png_metadata(data: bytes) -> PhotoMetadata:
    """EXIF (eXIf), ICC (iCCP) and XMP (iTXt ``XML:com.adobe.xmp``) from a PNG's chunks, without
    decoding pixels."""
    exif = xmp = icc = b""
    pos, n = 8, len(data)
    while pos + 8 <= n:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        try:
            if kind == b"iCCP" and not icc:
                name_end = body.index(b"\x00")
                icc = _inflate(body[name_end + 2 :], MAX_PROFILE_BYTES)
            elif kind == b"eXIf" and not exif:
                exif = clean_exif(body)
            elif kind == b"iTXt" and body.startswith(b"XML:com.adobe.xmp\x00") and not xmp:
                rest = body[len(b"XML:com.adobe.xmp\x00") :]
                compressed = rest[0] == 1
                rest = rest[2:]
                rest = rest[rest.index(b"\x00") + 1 :]  # language tag
                rest = rest[rest.index(b"\x00") + 1 :]  # translated keyword
                xmp = _inflate(rest, 16 << 20) if compressed else bytes(rest)
            elif kind == b"IEND":
                break
        except (ValueError, IndexError, zlib.error):
            continue  # a damaged chunk costs that chunk's metadata only
    return PhotoMetadata(exif, upright_xmp(xmp), icc)


def _inflate(data: bytes, limit: int) -> bytes:
    """zlib-decompress at most ``limit`` bytes (a metadata chunk may be a bomb)."""
    out = zlib.decompressobj().decompress(data, limit)
    return bytes(out)


def read_metadata(source, max_pixels: int | None = None, name: object = None) -> PhotoMetadata:
    """Read the EXIF, XMP and ICC profile of a photo, ready to write into its outputs.

    Parameters
    ----------
    source : path-like or bytes
        A JPEG, PNG, TIFF or WebP file or a camera RAW photo (others give empty metadata), or
        its bytes.
    max_pixels : int, optional
        As for :func:`skyseg_core.io.load_image` (a path is read with the same safety checks).
    name : optional
        What a note calls the photo (default: the path, or "the photo" for bytes).

    Returns
    -------
    metadata : PhotoMetadata
        EXIF with orientation reset to 1 and the thumbnail dropped, XMP, ICC profile bytes;
        each ``b""`` when absent or unreadable. Never raises for broken metadata.

    Raises
    ------
    InputError
        The file cannot be read at all (missing, a folder, a pipe; see ``load_image``).
    """
    from PIL import Image

    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        data = _read_bytes(Path(source), max_pixels_limit(max_pixels))
    raw_camera_exif = raw_exif(data)
    if raw_camera_exif is not None:  # a RAW, developed to sRGB: its camera's EXIF, no profile
        return PhotoMetadata(exif=raw_camera_exif)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _checked_profile(_png_metadata(data), name or source)
    with warnings.catch_warnings():  # Pillow warns of corrupt EXIF: that block is dropped, quietly
        warnings.simplefilter("ignore")
        try:
            img = Image.open(_io.BytesIO(data), formats=_available_formats())
        except Exception:  # not an image Pillow opens: nothing to carry over
            return EMPTY
        with _without_pillow_limit(), img:
            if img.format not in ("JPEG", "MPO", "TIFF", "WEBP"):
                return EMPTY
            tiff = img.format == "TIFF"
            icc = _field(lambda: img.info.get("icc_profile"))
            xmp = _field(lambda: img.tag_v2.get(_XMP_TAG) if tiff else img.info.get("xmp"))  # type: ignore[attr-defined]  # a TIFF's ImageFile has tag_v2
            exif = _field(
                lambda: _tiff_exif(img) if tiff else clean_exif(img.info.get("exif") or b"")
            )
    return _checked_profile(PhotoMetadata(exif, upright_xmp(xmp), icc), name or source)


_JPEG_SEGMENT = 65533
"""Most bytes one JPEG marker segment carries after its length field."""


_JPEG_ROOM = {
    "exif": ("EXIF block", _JPEG_SEGMENT),
    "xmp": ("XMP packet", _JPEG_SEGMENT - len(b"http://ns.adobe.com/xap/1.0/\x00")),
    "icc_profile": ("ICC profile", 255 * (_JPEG_SEGMENT - len(b"ICC_PROFILE\x00") - 2)),
}
"""What each block of a JPEG can hold: EXIF and XMP one segment, a profile 255 of them."""


def fitted(metadata: PhotoMetadata, fmt: str, name: object = None) -> PhotoMetadata:
    """``metadata`` less the blocks format ``fmt`` cannot hold, each left out with one note.

    In a JPEG an EXIF block or XMP packet must fit one 64 KB marker segment (a long edit
    history in XMP does not) and a profile 255 of them; PNG, TIFF and WebP hold any size.
    Losing a block never costs the image.
    """
    if fmt != "JPEG" or not metadata:
        return metadata
    left_out = {}
    for field, (label, room) in _JPEG_ROOM.items():
        size = len(getattr(metadata, field))
        if size > room:
            left_out[field] = b""
            warnings.warn(
                SkysegNote(
                    f"{name or 'the image'}: the {label} ({size:,} bytes) does not fit in a JPEG "
                    f"(at most {room:,}); written without it"
                ),
                stacklevel=3,
            )
    return dataclasses.replace(metadata, **left_out) if left_out else metadata


def _checked_profile(metadata: PhotoMetadata, name) -> PhotoMetadata:
    """``metadata`` with its ICC profile kept only if it is a valid profile, and one note when
    colours cannot be converted into or out of it (they are then used as they are)."""
    icc = metadata.icc_profile
    problem = profile_problem(icc)
    if problem is None:
        return metadata
    valid = is_valid_profile(icc)
    if isinstance(name, bytes | bytearray | memoryview):
        name = "the photo"
    warnings.warn(
        SkysegNote(
            f"{name}: its colour profile {problem}; its colours are used as they are, "
            f"unconverted, and the profile is {'kept' if valid else 'left out of the outputs'}"
        ),
        stacklevel=3,
    )
    return metadata if valid else dataclasses.replace(metadata, icc_profile=b"")


def _field(read) -> bytes:
    """One metadata field as bytes; ``b""`` when absent or unreadable (it costs that field only)."""
    try:
        value = read()
    except Exception:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, tuple):  # some TIFF writers store XMP as BYTE values
        return bytes(value)
    return bytes(value or b"")


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def png_with_metadata(png: bytes, metadata: PhotoMetadata) -> bytes:
    """Put ``metadata`` into encoded PNG bytes (iCCP, eXIf and iTXt chunks after IHDR).

    Chunks that would contradict an ICC profile (sRGB, gAMA, cHRM, iCCP) and any old eXIf or
    XMP chunk are removed. Any bit depth; the pixels are untouched.
    """
    if not metadata:
        return png
    ihdr_end = 8 + 12 + int.from_bytes(png[8:12], "big")
    extra = []
    if metadata.icc_profile:
        extra.append(
            _png_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(metadata.icc_profile, 9))
        )
    if metadata.exif:
        extra.append(_png_chunk(b"eXIf", metadata.exif.removeprefix(b"Exif\x00\x00")))
    if metadata.xmp:
        extra.append(_png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + metadata.xmp))
    drop = {b"eXIf"} | ({b"sRGB", b"gAMA", b"cHRM", b"iCCP"} if metadata.icc_profile else set())
    kept, pos = [], ihdr_end
    while pos + 8 <= len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        kind = png[pos + 4 : pos + 8]
        end = pos + 12 + length
        is_xmp = kind == b"iTXt" and png[pos + 8 : pos + 26] == b"XML:com.adobe.xmp\x00"
        if kind not in drop and not (is_xmp and metadata.xmp):
            kept.append(png[pos:end])
        pos = end
    return png[:ihdr_end] + b"".join(extra) + b"".join(kept)


_TYPE_UNIT = {
    1: 1,
    2: 1,
    3: 2,
    4: 4,
    5: 4,
    6: 1,
    7: 1,
    8: 2,
    9: 4,
    10: 4,
    11: 4,
    12: 8,
    13: 4,
    16: 8,
    17: 8,
    18: 8,
}
"""Byte size of one number of each TIFF field type (rationals are two numbers)."""


_TYPE_COUNT = {5: 2, 10: 2}
"""Numbers per value of each field type (1 unless listed)."""


def _ifd_entries(data: bytes, offset: int, order: str) -> list[tuple[int, int, int, bytes]]:
    """The entries of one TIFF directory as (tag, type, count, value bytes in ``order``)."""
    (count,) = struct.unpack_from(order + "H", data, offset)
    entries = []
    for i in range(min(count, 4096)):
        tag, kind, n, field = struct.unpack_from(order + "HHI4s", data, offset + 2 + 12 * i)
        if kind not in _TYPE_UNIT:
            continue
        size = _TYPE_UNIT[kind] * _TYPE_COUNT.get(kind, 1) * n
        if size <= 4:
            value = field[:size]
        else:
            (at,) = struct.unpack(order + "I", field)
            value = data[at : at + size]
            if len(value) != size:
                continue
        entries.append((tag, kind, n, value))
    return entries


def _swap(value: bytes, kind: int) -> bytes:
    unit = _TYPE_UNIT[kind]
    if unit == 1:
        return value
    return np.frombuffer(value, f">u{unit}").byteswap().tobytes()


def _exif_directories(exif: bytes, order: str) -> dict[str, list[tuple[int, int, int, bytes]]]:
    """IFD0, Exif, GPS and Interop entries of an EXIF block, values converted to ``order``."""
    tiff = exif.removeprefix(b"Exif\x00\x00")
    own = "<" if tiff[:2] == b"II" else ">"
    convert = (lambda v, k: v) if own == order else _swap  # noqa: E731

    def read(offset: int) -> list[tuple[int, int, int, bytes]]:
        return [
            (tag, kind, n, convert(value, kind))
            for tag, kind, n, value in _ifd_entries(tiff, offset, own)
        ]

    def pointer(entries, tag) -> int | None:
        for t, kind, _, value in entries:
            if t == tag and kind in (4, 13) and len(value) == 4:
                return struct.unpack(order + "I", value)[0]
        return None

    dirs = {"ifd0": read(struct.unpack_from(own + "I", tiff, 4)[0])}
    for name, parent, tag in (
        ("exif", "ifd0", _EXIF_IFD),
        ("gps", "ifd0", _GPS_IFD),
        ("interop", "exif", _INTEROP_IFD),
    ):
        at = pointer(dirs.get(parent, []), tag)
        if at:
            dirs[name] = read(at)
    return dirs


def _layout(entries: list[tuple[int, int, int, bytes]], at: int, order: str) -> bytes:
    """One TIFF directory placed at file offset ``at`` (even), its long values after it."""
    entries = sorted(entries, key=lambda e: e[0])
    table_end = at + 2 + 12 * len(entries) + 4
    table, extra = [struct.pack(order + "H", len(entries))], bytearray()
    for tag, kind, n, value in entries:
        if len(value) <= 4:
            field = value.ljust(4, b"\x00")
        else:
            field = struct.pack(order + "I", table_end + len(extra))
            extra += value + (b"\x00" if len(value) % 2 else b"")
        table.append(struct.pack(order + "HHI", tag, kind, n) + field)
    table.append(struct.pack(order + "I", 0))
    return b"".join(table) + bytes(extra)


def tiff_with_metadata(tiff: bytes, metadata: PhotoMetadata) -> bytes:
    """Put ``metadata`` into an encoded single-image classic TIFF (any bit depth).

    A new first directory is appended holding the old one's entries, the EXIF block's photo
    tags (camera, dates, author), ExifIFD and GPS directories, XMP (tag 700) and the ICC profile
    (tag 34675); the header then points to it. The pixel data does not move.
    """
    if not metadata:
        return tiff
    order = "<" if tiff[:2] == b"II" else ">"
    (first,) = struct.unpack_from(order + "I", tiff, 4)
    replaced = {_XMP_TAG, _ICC_TAG, _EXIF_IFD, _GPS_IFD}
    base = [e for e in _ifd_entries(tiff, first, order) if e[0] not in replaced]
    have = {e[0] for e in base}
    out = bytearray(tiff)
    if len(out) % 2:
        out += b"\x00"
    ifd0 = list(base)
    if metadata.exif:
        dirs = _exif_directories(metadata.exif, order)
        ifd0 += [
            e
            for e in dirs["ifd0"]
            if e[0] not in have
            and e[0] not in _TIFF_LAYOUT_TAGS
            and e[0] not in (_EXIF_IFD, _GPS_IFD)
        ]
        exif_entries = [e for e in dirs.get("exif", []) if e[0] != _INTEROP_IFD]
        if "interop" in dirs:
            at = len(out)
            out += _layout(dirs["interop"], at, order)
            exif_entries.append((_INTEROP_IFD, 4, 1, struct.pack(order + "I", at)))
        for name, tag, entries in (
            ("exif", _EXIF_IFD, exif_entries),
            ("gps", _GPS_IFD, dirs.get("gps", [])),
        ):
            if name in dirs and entries:
                at = len(out)
                out += _layout(entries, at, order)
                ifd0.append((tag, 4, 1, struct.pack(order + "I", at)))
    if metadata.xmp:
        ifd0.append((_XMP_TAG, 1, len(metadata.xmp), metadata.xmp))
    if metadata.icc_profile:
        ifd0.append((_ICC_TAG, 7, len(metadata.icc_profile), metadata.icc_profile))
    at = len(out)
    out += _layout(ifd0, at, order)
    struct.pack_into(order + "I", out, 4, at)
    return bytes(out)
