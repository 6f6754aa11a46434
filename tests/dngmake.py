"""Camera RAW test files: a Bayer DNG written by hand from an sRGB photo.

An RGGB mosaic, 16 bits, uncompressed, whose camera space is linear sRGB (ColorMatrix1 is
XYZ -> linear sRGB, AsShotNeutral 1:1:1), so that developed it gives back the photo it was made
from, demosaicked; with camera EXIF, GPS and an EXIF orientation tag. Used by tests/test_raw.py
and benchmarks/bench_raw.py.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

XYZ_TO_LINEAR_SRGB = (
    (3.2404542, -1.5371385, -0.4985314),
    (-0.9692660, 1.8760108, 0.0415560),
    (0.0556434, -0.2040259, 1.0572252),
)
MAKE, MODEL, ARTIST, COPYRIGHT, EXIF_IFD, GPS_IFD = 271, 272, 315, 33432, 34665, 34853
EXPOSURE, F_NUMBER, ISO, DATE_ORIGINAL, LENS_MODEL = 33434, 33437, 34855, 36867, 42036


def _encode(kind: int, values) -> bytes:
    if kind == 2:
        return values.encode("ascii") + b"\x00"
    if kind in (5, 10):
        flat = [part for fraction in values for part in fraction]
        return struct.pack("<" + ("I" if kind == 5 else "i") * len(flat), *flat)
    return struct.pack("<" + {1: "B", 3: "H", 4: "I"}[kind] * len(values), *values)


def _ifd(entries: dict[int, tuple[int, object]], offset: int) -> bytes:
    """A little-endian TIFF directory at ``offset`` followed by its out-of-line values."""
    tags = sorted(entries)
    data_at = offset + 2 + 12 * len(tags) + 4
    table, data = [struct.pack("<H", len(tags))], b""
    for tag in tags:
        kind, values = entries[tag]
        blob = _encode(kind, values)
        count = (
            len(blob)
            if kind in (1, 2)
            else len(blob) // (8 if kind in (5, 10) else 2 if kind == 3 else 4)
        )
        if len(blob) <= 4:
            table.append(struct.pack("<HHI", tag, kind, count) + blob.ljust(4, b"\x00"))
        else:
            table.append(struct.pack("<HHII", tag, kind, count, data_at + len(data)))
            data += blob + b"\x00" * (len(blob) & 1)
    return b"".join(table) + b"\x00\x00\x00\x00" + data


def write_dng(path: Path, photo: np.ndarray, orientation: int = 1, linear: bool = False) -> Path:
    """Write :func:`dng_bytes` of ``photo`` to ``path``."""
    path.write_bytes(dng_bytes(photo, orientation, linear))
    return path


def dng_bytes(photo: np.ndarray, orientation: int = 1, linear: bool = False) -> bytes:
    """A DNG (16 bits, uncompressed) of an sRGB uint8 photo, with camera EXIF and GPS, and the
    EXIF ``orientation`` tag (the photo is stored as given): a Bayer mosaic (RGGB), or with
    ``linear`` a linear DNG (three samples per pixel, demosaicked already)."""
    height, width = photo.shape[:2]
    height, width = height - height % 2, width - width % 2
    srgb = photo[:height, :width].astype(np.float64) / 255.0
    linear_light = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    scaled = np.round(linear_light * 60000.0).astype(np.uint16)
    if linear:
        pixels = scaled.astype("<u2").tobytes()
    else:
        mosaic = np.empty((height, width), np.uint16)
        mosaic[0::2, 0::2] = scaled[0::2, 0::2, 0]
        mosaic[0::2, 1::2] = scaled[0::2, 1::2, 1]
        mosaic[1::2, 0::2] = scaled[1::2, 0::2, 1]
        mosaic[1::2, 1::2] = scaled[1::2, 1::2, 2]
        pixels = mosaic.astype("<u2").tobytes()
    matrix = [(round(v * 10000), 10000) for row in XYZ_TO_LINEAR_SRGB for v in row]
    exif = {
        EXPOSURE: (5, [(1, 250)]),
        F_NUMBER: (5, [(8, 1)]),
        ISO: (3, [200]),
        DATE_ORIGINAL: (2, "2024:05:01 18:42:07"),
        LENS_MODEL: (2, "RF24-70mm F2.8"),
    }
    gps = {0: (1, [2, 3, 0, 0]), 1: (2, "N"), 2: (5, [(46, 1), (33, 1), (125, 10)])}
    layout: dict[int, tuple[int, object]] = (
        {258: (3, [16, 16, 16]), 262: (3, [34892]), 277: (3, [3])}
        if linear
        else {
            258: (3, [16]),
            262: (3, [32803]),
            277: (3, [1]),
            33421: (3, [2, 2]),
            33422: (1, [0, 1, 1, 2]),
        }
    )
    ifd0: dict[int, tuple[int, object]] = {
        254: (4, [0]),
        256: (4, [width]),
        257: (4, [height]),
        259: (3, [1]),
        271: (2, "Canon"),
        272: (2, "Canon EOS R5"),
        273: (4, [0]),
        274: (3, [orientation]),
        278: (4, [height]),
        279: (4, [len(pixels)]),
        284: (3, [1]),
        ARTIST: (2, "A. Photographer"),
        COPYRIGHT: (2, "(c) A. Photographer"),
        EXIF_IFD: (4, [0]),
        GPS_IFD: (4, [0]),
        50706: (1, [1, 4, 0, 0]),
        50708: (2, "skyseg test camera"),
        50714: (4, [0]),
        50717: (4, [65535]),
        50721: (10, matrix),
        50728: (5, [(1, 1), (1, 1), (1, 1)]),
        50778: (3, [21]),
        **layout,
    }
    at_ifd0 = 8
    at_exif = at_ifd0 + len(_ifd(ifd0, at_ifd0))
    at_gps = at_exif + len(_ifd(exif, at_exif))
    at_pixels = at_gps + len(_ifd(gps, at_gps))
    ifd0[EXIF_IFD], ifd0[GPS_IFD], ifd0[273] = (4, [at_exif]), (4, [at_gps]), (4, [at_pixels])
    return (
        b"II*\x00"
        + struct.pack("<I", at_ifd0)
        + _ifd(ifd0, at_ifd0)
        + _ifd(exif, at_exif)
        + _ifd(gps, at_gps)
        + pixels
    )


def with_declared_size(dng: bytes, width: int, height: int) -> bytes:
    """``dng`` whose first directory declares ``width`` x ``height`` pixels (and the strip
    that would hold them) over the same few bytes: a forged header."""
    data = bytearray(dng)
    (count,) = struct.unpack_from("<H", data, 8)
    values = {256: width, 257: height, 278: height, 279: min(width * height * 2, 0xFFFFFFFF)}
    for i in range(count):
        tag = struct.unpack_from("<H", data, 10 + 12 * i)[0]
        if tag in values:
            struct.pack_into("<I", data, 10 + 12 * i + 8, values[tag])
    return bytes(data)
