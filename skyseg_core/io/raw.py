"""Camera RAW photos, read through LibRaw (rawpy) and developed once (one module of about
460 lines: each RAW family keeps its camera's EXIF its own way, read here beside the development).

Every format LibRaw reads (CR2, CR3, CRW, NEF, NRW, ARW, RAF, ORF, RW2, PEF, SRW, DNG, ...) is
recognised by its content, never its file name: LibRaw either opens the bytes or it does not.
The photo is developed with :data:`DEVELOPMENT` (the one place the options live) to 16-bit
sRGB, turned as the camera recorded it, and from there it is a photo like any other:
:func:`skyseg_core.io.decode_image` returns its pixels, :func:`raw_exif` what the camera wrote
about it.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import stat
import struct
from collections.abc import Callable
from typing import Any, BinaryIO, cast

import numpy as np

from ..errors import ImageTooLargeError, InputError
from .bounds import _quiet_stderr
from .exif import clean_exif
from .formats import _first_ifd_tags

__all__ = [
    "DEVELOPMENT",
    "RAW_SUFFIXES",
    "Development",
    "develop_raw",
    "is_raw",
    "is_raw_file",
    "raw_exif",
    "raw_flip",
]

RAW_SUFFIXES = (
    ".3fr", ".arw", ".cr2", ".cr3", ".crw", ".dcr", ".dng", ".erf", ".fff", ".gpr", ".iiq",
    ".k25", ".kdc", ".mef", ".mos", ".mrw", ".nef", ".nrw", ".orf", ".pef", ".raf", ".raw",
    ".rw2", ".rwl", ".sr2", ".srf", ".srw", ".x3f",
)  # fmt: skip
"""Names of camera RAW files, collected when a folder is given as input (a file given by name
is recognised by its content)."""

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*")

_NOT_RAW_MAGIC = (
    b"\xff\xd8",  # JPEG
    b"\x89PNG",
    b"GIF8",
    b"BM",
    b"P1",
    b"P2",
    b"P3",
    b"P4",
    b"P5",
    b"P6",
)
"""Starts of the photo formats Pillow reads that are never RAW: LibRaw is not asked about them
(a camera JPEG is a JPEG, even where LibRaw would find a Kodak or Sinar raw inside)."""


@dataclasses.dataclass(frozen=True)
class Development:
    """How a RAW photo becomes pixels: rawpy's ``postprocess`` options, declared once.

    Camera white balance (what the photographer saw), sRGB primaries with the sRGB tone curve
    (the space every other skyseg input is taken to be in), 16 bits, and a fixed brightness:
    LibRaw's auto-brightening stretches each photo by its own histogram, so a sky-free frame's
    dark corner and a bright sky would come out at different exposures than the camera shot.
    """

    use_camera_wb: bool = True
    output_color: str = "sRGB"
    output_bps: int = 16
    no_auto_bright: bool = True
    bright: float = 1.0
    gamma: tuple[float, float] = (2.4, 12.92)  # sRGB's curve (rawpy's default is BT.709's)

    def options(self) -> dict[str, Any]:
        """The keyword arguments of ``rawpy.RawPy.postprocess``."""
        import rawpy

        return {
            "use_camera_wb": self.use_camera_wb,
            "output_color": rawpy.ColorSpace[self.output_color],
            "output_bps": self.output_bps,
            "no_auto_bright": self.no_auto_bright,
            "bright": self.bright,
            "gamma": self.gamma,
        }


DEVELOPMENT = Development()
"""The development every RAW input gets."""


class _Bytes:
    """The one method of a file rawpy's ``open_buffer`` calls (``read()``), returning the
    bytes themselves: a ``BytesIO`` would copy the whole RAW once more."""

    def __init__(self, data: bytes):
        self.data = data

    def read(self) -> bytes:
        return self.data


def _quietly(work: Callable[[], Any]) -> Any:
    """Run LibRaw work with its own stderr messages ("data corrupted at ...") silenced: what
    went wrong is in the error skyseg raises."""

    with _quiet_stderr():
        return work()


def _open(data: bytes):
    """A ``rawpy.RawPy`` with ``data`` opened (header parsed, nothing decoded), or None when
    LibRaw does not read it."""
    import rawpy

    raw = rawpy.RawPy()
    try:
        _quietly(lambda: raw.open_buffer(cast(BinaryIO, _Bytes(data))))
    except (rawpy.LibRawError, MemoryError):
        raw.close()
        return None
    return raw


_RAW_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"HEAPCCDR", 6, "a Canon CRW"),
    (b"ftypcrx ", 4, "a Canon CR3"),
    (b"FUJIFILMCCD-RAW", 0, "a Fujifilm RAF"),
    (b"IIRO", 0, "an Olympus ORF"),
    (b"IIRS", 0, "an Olympus ORF"),
    (b"MMOR", 0, "an Olympus ORF"),
    (b"IIU\x00", 0, "a Panasonic RW2"),
    (b"FOVb", 0, "a Sigma X3F"),
    (b"\x00MRM", 0, "a Minolta MRW"),
    (b"II*\x00\x10\x00\x00\x00CR\x02", 0, "a Canon CR2"),
)
"""Magic bytes of RAW formats, to name a file LibRaw will not open (truncated, corrupt)."""


def raw_kind(data: bytes) -> str | None:
    """What kind of camera RAW ``data`` starts like (``"a Canon CR2"``), None for no RAW.

    From magic bytes, and for TIFF-based RAWs (DNG, NEF, ARW, PEF, ...) from the first
    directory: a DNG version, a colour filter array, or a reduced-size preview first (a photo
    TIFF starts with its photo). Asked when LibRaw does not open a file, so that a damaged RAW
    is called one, never decoded as the little preview that Pillow finds in it.
    """
    for magic, offset, kind in _RAW_SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return kind
    if data[:4] not in _TIFF_MAGIC:
        return None

    try:
        tags = _first_ifd_tags(data, (254, 262, 50706))
    except struct.error:
        return None
    if 50706 in tags:
        return "a DNG"
    if tags.get(262) in (32803, 34892) or tags.get(254, 0) & 1:
        return "a TIFF-based camera"
    return None


def might_be_raw(data: bytes) -> bool:
    """Whether LibRaw is worth asking about ``data``: not one of the formats Pillow reads that
    are never RAW, and a TIFF only when its first directory says RAW (:func:`raw_kind`). LibRaw
    also develops plain 16-bit grey TIFFs, scans and the like, which are photos as stored."""
    if len(data) < 16 or data.startswith(_NOT_RAW_MAGIC) or data[8:12] == b"WEBP":
        return False
    return data[:4] not in _TIFF_MAGIC or raw_kind(data) is not None


def is_raw(data: bytes) -> bool:
    """Whether ``data`` is a camera RAW photo LibRaw reads (only its header is parsed)."""
    if not might_be_raw(data):
        return False
    raw = _open(data)
    if raw is None:
        return False
    raw.close()
    return True


_HEAD_BYTES = 1 << 16
"""What :func:`is_raw_file` reads itself: the magic bytes, and a TIFF's first directory."""


def is_raw_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a regular file holding a camera RAW photo LibRaw reads (only its
    header is parsed): for choosing an output's format before the photo is read."""
    return raw_flip(path) is not None


def raw_flip(path: str | os.PathLike) -> int | None:
    """LibRaw's ``flip`` (0-7, the turn it applies when developing) of the RAW photo at
    ``path``; None when ``path`` is no regular file holding a RAW (only its header is parsed)."""
    import rawpy

    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None  # a pipe or device is never opened here
        with open(path, "rb") as fh:
            head = fh.read(_HEAD_BYTES)
    except (OSError, ValueError):
        return None
    if not might_be_raw(head):
        return None
    raw = rawpy.RawPy()
    try:
        _quietly(lambda: raw.open_file(os.fspath(path)))
        return int(raw.sizes.flip)
    except (rawpy.LibRawError, MemoryError, UnicodeError):
        return None
    finally:
        raw.close()


def develop_raw(data: bytes, path: object, max_pixels: int) -> np.ndarray | None:
    """Develop a RAW photo with :data:`DEVELOPMENT`; None when ``data`` is no RAW.

    Parameters
    ----------
    data : bytes
        The whole file.
    path : object
        Labels error messages.
    max_pixels : int
        Refuse photos with more pixels than this, from the sizes in the RAW's header, before
        anything is decoded.

    Returns
    -------
    image : ndarray, shape (H, W, 3), dtype uint16, or None
        sRGB, turned as the camera's orientation (LibRaw's flip) says.

    Raises
    ------
    InputError
        Truncated or corrupt sensor data, or a RAW this LibRaw cannot develop.
    ImageTooLargeError
        More pixels than ``max_pixels``.
    """
    import rawpy

    if not might_be_raw(data):
        return None
    raw = _open(data)
    if raw is None:
        kind = raw_kind(data)
        if kind is None:
            return None
        raise InputError(
            f"{kind} RAW photo that LibRaw {'.'.join(map(str, rawpy.libraw_version))} cannot "
            "open: truncated, corrupt, or from a camera it does not know",
            path,
        )
    with raw:
        sizes = raw.sizes
        width, height = (
            (sizes.height, sizes.width) if sizes.flip in (5, 6) else (sizes.width, sizes.height)
        )
        if width < 1 or height < 1:
            raise InputError(f"RAW photo has no pixels ({width}x{height})", path)
        # The sensor's whole area is decoded, margins included: it counts against the limit too.
        if max(width * height, sizes.raw_width * sizes.raw_height) > max_pixels:
            raise ImageTooLargeError(path, width, height, max_pixels)
        try:
            pixels = _quietly(lambda: raw.postprocess(**DEVELOPMENT.options()))
        except rawpy.LibRawFileUnsupportedError:
            raise InputError("a camera RAW this LibRaw cannot develop", path) from None
        except rawpy.LibRawTooBigError:
            raise ImageTooLargeError(path, width, height, max_pixels) from None
        except rawpy.LibRawUnsufficientMemoryError:
            raise InputError("not enough memory to develop this RAW photo", path) from None
        except (rawpy.LibRawError, rawpy.NotSupportedError) as exc:
            reason = str(exc.args[0] if exc.args else exc)
            reason = reason.removeprefix("b'").removesuffix("'")
            raise InputError(f"RAW data is corrupt or truncated ({reason})", path) from None
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint16:
        raise InputError(f"RAW developed to an unexpected {pixels.dtype} {pixels.shape}", path)
    return np.ascontiguousarray(pixels)


# -- what the camera wrote about the photo ------------------------------------------------------

_IFD0_PHOTO_TAGS = (270, 271, 272, 305, 306, 315, 33432)
"""The photo's own tags of a RAW's first TIFF directory (description, make, model, software,
date, artist, copyright). The rest describe the RAW's storage or carry DNG colour calibration
that means nothing in a developed picture."""

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_ISO, _EXPOSURE, _F_NUMBER, _FOCAL, _ORIGINAL = 34855, 33434, 33437, 37386, 36867
_LENS_MAKE, _LENS_MODEL, _ARTIST = 42035, 42036, 315
_MAKE, _MODEL = 271, 272


def raw_exif(data: bytes) -> bytes | None:
    """The EXIF block of a RAW photo, ready for its developed outputs; None for no RAW, ``b""``
    for a RAW that says nothing about itself.

    The RAW's own TIFF structure gives it where it has one (DNG, CR2, NEF, ARW, PEF, ORF, RW2,
    ...: camera, lens, exposure, dates, copyright, GPS); Canon's CR3 keeps the same directories
    in its CMT boxes, Fujifilm's RAF in its preview JPEG, Canon's CRW make and model in its
    CIFF heap. Whatever is still missing and LibRaw knows (exposure, ISO, aperture, focal
    length, date, artist, lens) is filled in from LibRaw. Orientation 1: the developed pixels
    are upright. Never raises: a broken block costs the EXIF, not the photo.
    """
    from PIL import Image

    if not might_be_raw(data):
        return None
    raw = _open(data)
    if raw is None:
        return None
    with raw:
        known = _libraw_fields(raw)
    exif = Image.Exif()
    try:
        _camera_exif(data, exif)
    except Exception:  # a broken directory: LibRaw's fields below still describe the photo
        exif = Image.Exif()
    exif_ifd = exif.get_ifd(_EXIF_IFD)
    for tag, value in known.items():
        target = exif if tag in (_MAKE, _MODEL, _ARTIST) else exif_ifd
        if tag not in target and value not in (None, "", 0):
            target[tag] = value
    return clean_exif(exif)


def _camera_exif(data: bytes, exif) -> None:
    """Fill ``exif`` (a Pillow ``Image.Exif``) from the RAW's own EXIF structures."""
    from PIL import Image

    if data[:4] in _TIFF_MAGIC or data[:4] in (b"IIRO", b"IIRS", b"MMOR", b"IIU\x00"):
        # ORF and RW2 are TIFF with a magic number of their own
        order = data[:2]
        tiff = order + (b"*\x00" if order == b"II" else b"\x00*") + data[4:]
        _merge_tiff(exif, tiff)
    elif data[4:12] == b"ftypcrx ":
        for box, ifd in ((b"CMT1", None), (b"CMT2", _EXIF_IFD), (b"CMT4", _GPS_IFD)):
            tiff = _cr3_box(data, box)
            if tiff:
                _merge_tiff(exif, tiff, into=ifd)
    elif data.startswith(b"FUJIFILMCCD-RAW"):
        start, length = struct.unpack_from(">II", data, 84)
        with Image.open(_io_bytes(data[start : start + length])) as preview:
            source = preview.getexif()
            for tag, value in source.items():
                exif[tag] = value
            for ifd in (_EXIF_IFD, _GPS_IFD):
                if ifd in source:
                    exif.get_ifd(ifd).update(source.get_ifd(ifd))
    elif data[6:14] == b"HEAPCCDR":
        make_model = _ciff_record(data, 0x080A)
        if make_model:
            make, _, rest = make_model.partition(b"\x00")
            model = rest.partition(b"\x00")[0]
            exif[_MAKE] = make.decode("latin-1").strip()
            exif[_MODEL] = model.decode("latin-1").strip()


def _io_bytes(data: bytes):
    import io

    return io.BytesIO(data)


def _merge_tiff(exif, tiff: bytes, into: int | None = None) -> None:
    """Copy a TIFF structure's photo tags into ``exif``: with ``into`` None its first
    directory's photo tags and its Exif and GPS directories, else its first directory as the
    ``into`` directory (a CR3 CMT box)."""
    from PIL import Image

    source = Image.Exif()
    source.load(tiff)
    if into is not None:
        exif.get_ifd(into).update(dict(source.items()))
        return
    for tag in _IFD0_PHOTO_TAGS:
        if tag in source:
            exif[tag] = source[tag]
    for ifd in (_EXIF_IFD, _GPS_IFD):
        if ifd in source:
            exif.get_ifd(ifd).update(source.get_ifd(ifd))


def _cr3_box(data: bytes, name: bytes) -> bytes:
    """The contents of a CR3's CMT box (a TIFF structure), ``b""`` when absent; the boxes sit
    in the first kilobytes (``moov/uuid``)."""
    at = data.find(name, 0, 1 << 20)
    if at < 4:
        return b""
    (size,) = struct.unpack_from(">I", data, at - 4)
    return data[at + 4 : at - 4 + size] if size > 8 else b""


def _ciff_record(data: bytes, wanted: int) -> bytes:
    """The data of the first CIFF record tagged ``wanted`` (Canon CRW), searched through the
    heap's sub-heaps; ``b""`` when absent."""
    order = "<" if data[:2] == b"II" else ">"
    (header,) = struct.unpack_from(order + "I", data, 2)
    pending = [(header, len(data))]
    seen = 0
    while pending and seen < 64:  # a forged heap may point at itself
        start, end = pending.pop()
        seen += 1
        (table,) = struct.unpack_from(order + "I", data, end - 4)
        table += start
        (count,) = struct.unpack_from(order + "H", data, table)
        for i in range(min(count, 1024)):
            tag, size, offset = struct.unpack_from(order + "HII", data, table + 2 + 10 * i)
            kind = tag & 0x3800
            if (tag & 0x3FFF) == wanted:
                return data[start + offset : start + offset + size]
            if kind in (0x2800, 0x3000) and start + offset + size <= end:
                pending.append((start + offset, start + offset + size))
    return b""


def _libraw_fields(raw) -> dict[int, object]:
    """EXIF tags from what LibRaw read: exposure, ISO, aperture, focal length, date, artist, lens."""
    other, lens = raw.other, raw.lens
    fields: dict[int, object] = {}
    if other.shutter_speed > 0:
        fields[_EXPOSURE] = _rational(other.shutter_speed)
    if other.aperture > 0:
        fields[_F_NUMBER] = _rational(other.aperture)
    if other.focal_length > 0:
        fields[_FOCAL] = _rational(other.focal_length)
    if other.iso_speed > 0:
        fields[_ISO] = min(int(round(other.iso_speed)), 65535)
    if isinstance(other.timestamp, datetime.datetime) and other.timestamp.year > 1970:
        fields[_ORIGINAL] = other.timestamp.strftime("%Y:%m:%d %H:%M:%S")
    fields[_ARTIST] = _text(other.artist)
    fields[_LENS_MAKE] = _text(lens.make)
    fields[_LENS_MODEL] = _text(lens.model)
    return fields


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return str(value or "").strip("\x00 ")


def _rational(value: float):
    """A float as the TIFF rational Pillow writes (1/250 s stays 1/250, not 0.004)."""
    from fractions import Fraction

    from PIL.TiffImagePlugin import IFDRational

    fraction = Fraction(value).limit_denominator(100_000)
    return IFDRational(fraction.numerator, fraction.denominator)
