"""Photo metadata (EXIF, XMP, ICC profile) carried from an input to the images made from it.

:func:`read_metadata` takes what a photo says about itself; :func:`skyseg_core.io.save_image`
writes it back (``metadata=``). What changes on the way, and why:

- The orientation (EXIF, and XMP ``tiff:Orientation``) becomes 1: skyseg stores pixels
  upright (:func:`~skyseg_core.io.load_image` applies the orientation), so keeping the old
  value would turn the photo a second time.
- The EXIF thumbnail (IFD1) is dropped: it shows the photo before the edit.
- From a TIFF, only the photo's own tags are kept (camera, lens, dates, author, GPS), not
  the tags that describe the old file's pixel layout (size, strips, compression).
- Everything else (camera, lens, exposure, dates, copyright, GPS, maker note bytes, XMP, the
  ICC profile) is kept as it was. A maker note whose vendor format uses offsets from the start
  of the file can lose its meaning when its block moves, as with other tools that rewrite EXIF.

:func:`to_profile` and :func:`to_srgb` move pixels between sRGB and a photo's ICC profile
(a replacement sky, a preset colour, into the photo's space), exactly for matrix/TRC profiles
(Adobe RGB, Display P3, ProPhoto, camera RGB) and through Pillow's ImageCms otherwise.
"""

from __future__ import annotations

import dataclasses
import functools
import io as _io
import math
import re
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np

from .errors import SkysegNote

__all__ = [
    "MAX_PROFILE_BYTES",
    "PhotoMetadata",
    "clean_exif",
    "fitted",
    "is_valid_profile",
    "profile_name",
    "profile_problem",
    "read_metadata",
    "to_profile",
    "to_srgb",
    "upright_xmp",
]


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

_ORIENTATION = 0x0112
_EXIF_IFD, _GPS_IFD, _INTEROP_IFD = 0x8769, 0x8825, 0xA005
_XMP_TAG, _ICC_TAG, _IPTC_TAG, _PHOTOSHOP_TAG = 700, 34675, 33723, 34377

_TIFF_LAYOUT_TAGS = frozenset(
    {
        254,
        255,
        256,
        257,
        258,
        259,
        262,
        263,
        264,
        265,
        266,
        273,
        277,
        278,
        279,
        280,
        281,
        282,
        283,
        284,
        290,
        291,
        292,
        293,
        296,
        317,
        320,
        321,
        322,
        323,
        324,
        325,
        330,
        332,
        338,
        339,
        340,
        341,
        342,
        347,
        512,
        513,
        514,
        515,
        517,
        518,
        519,
        520,
        521,
        529,
        530,
        531,
        532,
        _XMP_TAG,
        _IPTC_TAG,
        _PHOTOSHOP_TAG,
        _ICC_TAG,
        37724,
        50838,
        50839,
    }
)
"""TIFF tags that describe a file's pixel storage (or carry XMP/ICC/Photoshop blocks, kept apart),
not the photo: left out when a TIFF's first directory becomes an EXIF block, and when an
EXIF block's first directory is merged into a new TIFF (whose encoder wrote its own)."""


def clean_exif(exif) -> bytes:
    """An EXIF block ready for an upright, new image: orientation 1, no thumbnail.

    ``exif`` is raw EXIF bytes (with or without the ``Exif\\0\\0`` header) or a Pillow
    ``Image.Exif``. Returns ``b""`` for an empty or unreadable block (a broken EXIF block
    costs the EXIF, never the photo).
    """
    from PIL import Image

    try:
        if not isinstance(exif, Image.Exif):
            if not exif:
                return b""
            loaded = Image.Exif()
            loaded.load(bytes(exif))
            exif = loaded
        for tag in (_EXIF_IFD, _GPS_IFD):
            if tag in exif:
                exif.get_ifd(tag)  # loaded, so tobytes() writes it
        if len(exif) == 0:
            return b""
        if _ORIENTATION in exif:
            exif[_ORIENTATION] = 1
        data = exif.tobytes()  # IFD0 with its Exif, GPS and Interop directories; no IFD1
    except Exception:  # a corrupt block: drop it, keep the photo
        return b""
    return data if data.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + data


_XMP_ORIENTATION = re.compile(rb"""(tiff:Orientation\s*(?:=\s*["']|>)\s*)[0-9]+""")
"""The orientation in an XMP packet, as an attribute or an element (Pillow applies it on load
when the EXIF block has none)."""


def upright_xmp(xmp: bytes) -> bytes:
    """An XMP packet ready for an upright image: every ``tiff:Orientation`` set to 1.

    As :func:`clean_exif` does for EXIF: skyseg stores pixels upright, so an orientation kept
    from the input would turn the output a second time when it is opened.
    """
    return _XMP_ORIENTATION.sub(rb"\g<1>1", xmp) if xmp else xmp


def _tiff_exif(img) -> bytes:
    """A TIFF's photo tags (first directory less its layout tags, with its Exif and GPS
    directories) as an EXIF block."""
    from PIL import Image

    source = img.getexif()
    exif = Image.Exif()
    for tag, value in source.items():
        if tag in _TIFF_LAYOUT_TAGS or tag in (_EXIF_IFD, _GPS_IFD):
            continue
        exif[tag] = value
    for tag in (_EXIF_IFD, _GPS_IFD):
        if tag in source:
            sub = source.get_ifd(tag)
            if sub:
                target = exif.get_ifd(tag)
                target.update(sub)
    return clean_exif(exif)


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

    from .io import _available_formats, _read_bytes, _without_pillow_limit, max_pixels_limit
    from .raw import raw_exif

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


MAX_PROFILE_BYTES = 16 << 20
"""Largest ICC profile skyseg reads from a photo (16 MiB). Real profiles, LUT-based printer
profiles included, take up to a few MB; a JPEG holds at most 255 segments of 65,519 bytes
(16,707,345 bytes), so a larger one is left out of JPEG outputs."""

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


# -- writing: PNG chunks and TIFF directories ------------------------------------------------


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


# -- colour profiles ------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _srgb_icc() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def profile_name(icc: bytes) -> str:
    """The profile's description ("Adobe RGB (1998)", "Display P3"), or "" if it has none."""
    from PIL import ImageCms

    try:
        return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(_io.BytesIO(icc))).strip()
    except Exception:
        return ""


def _tags(icc: bytes) -> dict[bytes, bytes]:
    (count,) = struct.unpack_from(">I", icc, 128)
    tags = {}
    for i in range(min(count, 200)):
        sig, offset, size = struct.unpack_from(">4sII", icc, 132 + 12 * i)
        tags[sig] = icc[offset : offset + size]
    return tags


def _s15(data: bytes, at: int) -> float:
    return struct.unpack_from(">i", data, at)[0] / 65536.0


class _Curve:
    """A tone curve from an ICC ``curv`` or ``para`` tag: encoded [0, 1] -> linear [0, 1]."""

    def __init__(self, tag: bytes):
        kind = tag[:4]
        self.gamma: float | None = None
        self.table: np.ndarray | None = None
        self.params: tuple[int, list[float]] | None = None
        if kind == b"curv":
            (n,) = struct.unpack_from(">I", tag, 8)
            if n == 0:
                self.gamma = 1.0
            elif n == 1:
                self.gamma = struct.unpack_from(">H", tag, 12)[0] / 256.0
            else:
                self.table = np.frombuffer(tag, ">u2", n, 12).astype(np.float64) / 65535.0
        elif kind == b"para":
            (fn,) = struct.unpack_from(">H", tag, 8)
            count = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}[fn]
            self.params = (fn, [_s15(tag, 12 + 4 * i) for i in range(count)])
        else:
            raise ValueError(f"unsupported curve type {kind!r}")
        self._check()

    def _check(self) -> None:
        """Raise :class:`_UnusableProfile` for a curve no colour can be converted through: a
        gamma of zero or below, parameters that divide by zero, values that are not finite or
        that never rise."""
        if self.gamma is not None and not (0 < self.gamma < math.inf):
            raise _UnusableProfile(f"has a tone curve of gamma {self.gamma:g}")
        if self.params is not None:
            fn, p = self.params
            if not (all(math.isfinite(v) for v in p) and p[0] > 0 and (fn == 0 or p[1] != 0)):
                raise _UnusableProfile(
                    f"has a tone curve that cannot be used (parameters {', '.join(f'{v:g}' for v in p)})"
                )
        with np.errstate(all="ignore"):
            samples = self.forward(np.linspace(0.0, 1.0, 256))
        if not np.isfinite(samples).all() or not samples[-1] > samples[0]:
            raise _UnusableProfile("has a tone curve that is flat or not finite")

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.clip(x, 0.0, 1.0)
        if self.gamma is not None:
            return x**self.gamma
        if self.table is not None:
            return np.interp(x, np.linspace(0.0, 1.0, len(self.table)), self.table)
        assert self.params is not None  # __init__ sets one of gamma, table, params
        fn, p = self.params
        g = p[0]
        if fn == 0:
            return x**g
        if fn == 1:
            a, b = p[1], p[2]
            return np.where(x >= -b / a, np.maximum(a * x + b, 0) ** g, 0.0)
        if fn == 2:
            a, b, c = p[1], p[2], p[3]
            return np.where(x >= -b / a, np.maximum(a * x + b, 0) ** g + c, c)
        if fn == 3:
            a, b, c, d = p[1], p[2], p[3], p[4]
            return np.where(x >= d, np.maximum(a * x + b, 0) ** g, c * x)
        a, b, c, d, e, f = p[1:7]
        return np.where(x >= d, np.maximum(a * x + b, 0) ** g + e, c * x + f)

    @functools.cached_property
    def _inverse_table(self) -> tuple[np.ndarray, np.ndarray]:
        x = np.linspace(0.0, 1.0, 65536)
        y = np.maximum.accumulate(self.forward(x))  # monotonic for interpolation
        return y, x

    def inverse(self, y: np.ndarray) -> np.ndarray:
        """Linear [0, 1] -> encoded, in ``y``'s float type: closed form for gamma and sRGB-type
        curves (OpenCV's float32 power for float32 input: numpy's 64-bit table lookup took seconds
        at 12 MP), the tabulated curve's inverse by interpolation otherwise."""
        y = np.clip(y, 0.0, 1.0)

        def power(x, exponent):
            if x.dtype == np.float32 and x.ndim == 1 and x.flags.c_contiguous:
                import cv2

                return cv2.pow(x, exponent).reshape(x.shape)
            return x**exponent

        if self.gamma is not None:
            return power(y, 1.0 / self.gamma)
        if self.params is not None and self.params[0] in (0, 3):
            fn, p = self.params
            if fn == 0:
                return power(y, 1.0 / p[0])
            g, a, b, c, d = p
            knee = c * d
            curved = (power(np.maximum(y, np.asarray(knee, y.dtype)), 1.0 / g) - b) / a
            straight = y / c if c > 0 else np.zeros_like(y)
            return np.clip(np.where(y >= knee, curved, straight), 0.0, 1.0).astype(
                y.dtype, copy=False
            )
        table_y, table_x = self._inverse_table
        return np.interp(y, table_y, table_x).astype(y.dtype, copy=False)

    def forward_table(self, levels: int) -> np.ndarray:
        """:meth:`forward` of every code of an integer image with ``levels`` codes, as float32."""
        tables = self.__dict__.setdefault("_forward_tables", {})
        if levels not in tables:
            tables[levels] = self.forward(
                np.arange(levels, dtype=np.float64) / (levels - 1)
            ).astype(np.float32)
        return tables[levels]

    def samples(self) -> np.ndarray:
        return self.forward(np.linspace(0.0, 1.0, 1024))


@functools.lru_cache(maxsize=16)
def _matrix_shaper(icc: bytes) -> tuple[np.ndarray, tuple[_Curve, _Curve, _Curve]] | None:
    """(RGB->XYZ D50 matrix, tone curves) of a matrix/TRC RGB profile; None for LUT-based ones.

    Raises :class:`_UnusableProfile` for one whose curves or matrix no colour can go through.
    """
    try:
        if icc[16:20] != b"RGB " or icc[20:24] != b"XYZ ":
            return None
        tags = _tags(icc)
        if b"A2B0" in tags or b"B2A0" in tags:
            return None  # LittleCMS would use the LUTs: so does to_profile (through ImageCms)
        columns = [
            [_s15(tags[sig], 8 + 4 * i) for i in range(3)] for sig in (b"rXYZ", b"gXYZ", b"bXYZ")
        ]
        curves = (_Curve(tags[b"rTRC"]), _Curve(tags[b"gTRC"]), _Curve(tags[b"bTRC"]))
    except (KeyError, ValueError, struct.error, IndexError):
        return None
    matrix = np.array(columns, np.float64).T
    if not np.isfinite(matrix).all() or np.linalg.cond(matrix) > _MAX_CONDITION:
        raise _UnusableProfile("has a colour matrix that cannot be inverted")
    return matrix, curves


_MAX_CONDITION = 1e6
"""Largest condition number of a profile's RGB->XYZ matrix that is converted (real profiles,
the widest-gamut ones included, stay below 100; one of rXYZ, gXYZ, bXYZ repeating another
makes it infinite)."""


class _UnusableProfile(Exception):
    """A profile that parses but that no colour can be converted through; the message says why."""


def is_valid_profile(icc: bytes) -> bool:
    """Whether ``icc`` is an ICC profile LittleCMS opens (a garbage block is not)."""
    from PIL import ImageCms

    if len(icc) < 132 or icc[36:40] != b"acsp":
        return False
    try:
        ImageCms.ImageCmsProfile(_io.BytesIO(icc))
    except Exception:  # PyCMSError, OSError, ValueError: not a profile
        return False
    return True


@functools.lru_cache(maxsize=16)
def profile_problem(icc: bytes) -> str | None:
    """Why colours cannot be converted into or out of the profile ``icc``; None when they can
    (and for ``b""``, sRGB).

    A garbage block, a profile of another colour space (Lab, CMYK, grey), a tone curve of
    gamma 0 or below, a colour matrix that cannot be inverted, or one LittleCMS cannot build a
    transform for. :func:`convert_profile` leaves colours as they are for such a profile.
    """
    if not icc:
        return None
    if not is_valid_profile(icc):
        return "is not a valid ICC profile"
    if icc[16:20] != b"RGB ":
        space = icc[16:20].decode("latin-1").strip() or "unknown"
        return f"describes {space} colours, not RGB"
    probe = np.array([[[0, 0, 0], [255, 255, 255], [128, 128, 128], [255, 0, 0], [0, 0, 255]]])
    try:
        with np.errstate(all="raise"):
            _convert(probe.astype(np.uint8), b"", icc)
            _convert(probe.astype(np.uint8), icc, b"")
    except _UnusableProfile as exc:
        return str(exc)
    except Exception as exc:  # LittleCMS refusing a transform, a float error: it cannot be used
        return f"cannot be converted through ({type(exc).__name__}: {exc})"
    return None


def _as_float(rgb: np.ndarray) -> tuple[np.ndarray, object]:
    rgb = np.asarray(rgb)
    if rgb.dtype == np.uint8:
        return rgb.astype(np.float64) / 255.0, np.uint8
    if rgb.dtype == np.uint16:
        return rgb.astype(np.float64) / 65535.0, np.uint16
    return rgb.astype(np.float64), rgb.dtype


def _back(values: np.ndarray, dtype) -> np.ndarray:
    if dtype == np.uint8:
        return np.round(np.clip(values, 0, 1) * 255.0).astype(np.uint8)
    if dtype == np.uint16:
        return np.round(np.clip(values, 0, 1) * 65535.0).astype(np.uint16)
    return np.clip(values, 0, 1).astype(dtype)


_CHUNK = 1 << 20
"""Pixels converted at a time (bounds the float temporaries of a 50 MP photo)."""


def convert_profile(rgb: np.ndarray, source_icc: bytes, target_icc: bytes) -> np.ndarray:
    """Convert RGB pixels from one ICC profile's colour space to another's (relative colorimetric).

    Parameters
    ----------
    rgb : ndarray, shape (..., 3), uint8, uint16 or float in [0, 1]
    source_icc, target_icc : bytes
        ICC profiles (``b""`` means sRGB).

    Returns
    -------
    ndarray, same shape and dtype as ``rgb``
        Out-of-gamut colours are clipped. Matrix/TRC profiles are converted exactly in float32
        (16-bit precision kept); LUT-based profiles go through Pillow's ImageCms at 8 bits.
        With a profile that cannot be used (:func:`profile_problem`), the colours come back as
        they are.
    """
    rgb = np.asarray(rgb)
    if profile_problem(source_icc) is not None or profile_problem(target_icc) is not None:
        return rgb.copy()
    return _convert(rgb, source_icc, target_icc)


def _convert(rgb: np.ndarray, source_icc: bytes, target_icc: bytes) -> np.ndarray:
    source_icc, target_icc = source_icc or _srgb_icc(), target_icc or _srgb_icc()
    if source_icc == target_icc or _same_space(source_icc, target_icc):
        return rgb.copy()
    src, dst = _matrix_shaper(source_icc), _matrix_shaper(target_icc)
    if src is None or dst is None:
        return _convert_imagecms(rgb, source_icc, target_icc)
    levels = {np.dtype(np.uint8): 256, np.dtype(np.uint16): 65536}.get(rgb.dtype)
    flat = rgb.reshape(-1, 3)
    out = np.empty(flat.shape, rgb.dtype)
    matrix = (np.linalg.inv(dst[0]) @ src[0]).astype(np.float32)
    for start in range(0, len(flat), _CHUNK):
        part = flat[start : start + _CHUNK]
        linear = np.empty((3, len(part)), np.float32)  # channel-major: each row contiguous
        for i, curve in enumerate(src[1]):
            # integer codes: the curve looked up once per code, not computed per pixel
            linear[i] = (
                curve.forward_table(levels)[part[:, i]] if levels else curve.forward(part[:, i])
            )
        mapped = np.clip(matrix @ linear, 0.0, 1.0)
        for i, curve in enumerate(dst[1]):
            out[start : start + _CHUNK, i] = _back(curve.inverse(mapped[i]), rgb.dtype)
    return out.reshape(rgb.shape)


@functools.lru_cache(maxsize=16)
def _same_space(a: bytes, b: bytes) -> bool:
    """Whether two matrix/TRC profiles describe the same colours: an sRGB profile a camera or
    editor embedded is not byte-equal to LittleCMS's, yet converting between them changes nothing."""
    pa, pb = _matrix_shaper(a), _matrix_shaper(b)
    if pa is None or pb is None:
        return False
    return bool(
        np.abs(pa[0] - pb[0]).max() < 2e-3
        and all(
            np.abs(ca.samples() - cb.samples()).max() < 2e-3
            for ca, cb in zip(pa[1], pb[1], strict=True)
        )
    )


def _convert_imagecms(rgb: np.ndarray, source_icc: bytes, target_icc: bytes) -> np.ndarray:
    from PIL import Image, ImageCms

    values, dtype = _as_float(rgb)
    codes = np.round(np.clip(values, 0, 1) * 255).astype(np.uint8).reshape(-1, 1, 3)
    transform = ImageCms.buildTransform(
        ImageCms.ImageCmsProfile(_io.BytesIO(source_icc)),
        ImageCms.ImageCmsProfile(_io.BytesIO(target_icc)),
        "RGB",
        "RGB",
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
    )
    out = np.asarray(ImageCms.applyTransform(Image.fromarray(codes, "RGB"), transform))
    return _back(out.reshape(values.shape).astype(np.float64) / 255.0, dtype)


def to_profile(rgb: np.ndarray, icc: bytes) -> np.ndarray:
    """Bring sRGB pixels (a replacement sky, a preset colour) into the colour space of ``icc``.

    Same shape and dtype back; ``b""`` (a photo without a profile, taken as sRGB) returns a
    copy. See :func:`convert_profile`.
    """
    return convert_profile(rgb, b"", icc)


def to_srgb(rgb: np.ndarray, icc: bytes) -> np.ndarray:
    """Convert pixels in the colour space of ``icc`` to sRGB (the inverse of :func:`to_profile`)."""
    return convert_profile(rgb, icc, b"")
