"""Pixels to file bytes and files: :func:`encode_image`, :func:`save_image`, :func:`save_matte`.

PNG, JPEG, TIFF, WebP and PPM/PGM, 16-bit kept where the format can, metadata written back
(:mod:`.metadata`), files written atomically (:mod:`.atomic`).
"""

from __future__ import annotations

import io as _io
import os
from pathlib import Path

import numpy as np

from ..depth import convert_depth, to_codes
from ..errors import OutputError
from ..matte import check_matte
from .atomic import write_bytes_atomic
from .formats import _reason
from .metadata import fitted, png_with_metadata, tiff_with_metadata


def _format_for(path: Path) -> str:
    suffix = path.suffix.lower()
    formats = {
        ".png": "PNG",
        ".jpg": "JPEG",
        ".jpeg": "JPEG",
        ".tif": "TIFF",
        ".tiff": "TIFF",
        ".webp": "WEBP",
        ".ppm": "PPM",
        ".pgm": "PPM",
        ".pnm": "PPM",
    }
    if suffix not in formats:
        raise OutputError(
            f"unsupported output format {suffix or '(none)'}; use .png, .jpg, .tif, .webp or .ppm",
            path,
        )
    return formats[suffix]


_MAX_SIDE = {"JPEG": 65_535, "WEBP": 16_383, "PNG": 2**31 - 1, "TIFF": 2**31 - 1, "PPM": 2**31 - 1}
"""Largest width or height each output format can store."""


MATTE_SUFFIXES = (".png", ".pgm")
"""What :func:`save_matte` writes: PNG, or PGM for the plug-ins' uncompressed exchange."""


DEFAULT_QUALITY = 95
"""JPEG and WebP quality when none is given."""


def _check_quality(quality: int | None) -> int:
    if quality is None:
        return DEFAULT_QUALITY
    if (
        isinstance(quality, bool)
        or not isinstance(quality, int | np.integer)
        or not 1 <= int(quality) <= 100
    ):
        raise OutputError(f"quality must be a whole number from 1 to 100, got {quality!r}")
    return int(quality)


def encode_image(
    image: np.ndarray, fmt: str, quality: int | None = None, metadata=None, name: object = None
) -> bytes:
    """Encode an RGB (H, W, 3), RGBA (H, W, 4) or grey (H, W) uint8/uint16 array as PNG, JPEG,
    TIFF, WebP or PPM/PGM bytes.

    16-bit arrays stay 16-bit in PNG, TIFF and PPM/PGM; JPEG and WebP are 8-bit, and JPEG and PPM
    have no alpha. PPM/PGM (binary Netpbm, no compression) is the fast exchange format of the
    plug-ins; it stores no metadata.
    ``quality`` (1-100, default :data:`DEFAULT_QUALITY`) applies to JPEG and WebP.
    ``metadata`` (a :class:`~skyseg_core.io.metadata.PhotoMetadata`) is written into the file:
    EXIF, XMP and ICC profile, for every format and bit depth.
    """
    import cv2

    quality = _check_quality(quality)
    image = np.asarray(image)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise OutputError(f"cannot encode an array of shape {image.shape} as an image")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise OutputError(f"cannot encode an empty image (shape {image.shape})")
    if max(image.shape[:2]) > _MAX_SIDE[fmt]:
        raise OutputError(
            f"{fmt} cannot store an image of {image.shape[1]}x{image.shape[0]} pixels; use .png or .tif"
        )
    alpha = image.ndim == 3 and image.shape[2] == 4
    if alpha and fmt in ("JPEG", "PPM"):
        raise OutputError(f"{fmt} cannot store transparency; use .png, .tif or .webp")
    if image.dtype == np.uint16 and fmt in ("JPEG", "WEBP"):
        image = convert_depth(image, np.uint8)
    if image.dtype not in (np.uint8, np.uint16):
        raise OutputError(f"cannot encode an image of dtype {image.dtype}")
    if fmt == "PPM":
        metadata = None  # Netpbm has nowhere to keep it
    if metadata:
        metadata = fitted(metadata, fmt, name)
    if metadata and fmt in ("JPEG", "WEBP"):
        return _pillow_encode(image, fmt, quality, metadata)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    bgr = image[..., [2, 1, 0, 3]] if alpha else image[..., ::-1] if image.ndim == 3 else image
    ext = {"PNG": ".png", "JPEG": ".jpg", "TIFF": ".tif", "WEBP": ".webp", "PPM": ".pnm"}[fmt]
    params = {
        "JPEG": [cv2.IMWRITE_JPEG_QUALITY, quality],
        "WEBP": [cv2.IMWRITE_WEBP_QUALITY, quality],
    }.get(fmt, [])
    try:
        ok, buf = cv2.imencode(ext, np.ascontiguousarray(bgr), params)
    except cv2.error as exc:
        raise OutputError(f"could not encode the image as {fmt} ({_reason(exc)})") from None
    if not ok:
        raise OutputError(f"could not encode the image as {fmt}")
    data = buf.tobytes()
    if metadata:
        data = (
            png_with_metadata(data, metadata)
            if fmt == "PNG"
            else tiff_with_metadata(data, metadata)
        )
    return data


def _pillow_encode(image: np.ndarray, fmt: str, quality: int, metadata) -> bytes:
    """8-bit JPEG or WebP with EXIF, XMP and ICC profile, through Pillow (OpenCV writes none)."""
    from PIL import Image

    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    picture = Image.fromarray(
        image, "L" if image.ndim == 2 else "RGB" if image.shape[2] == 3 else "RGBA"
    )
    options: dict = {"quality": quality}
    if metadata.exif:
        options["exif"] = metadata.exif
    if metadata.icc_profile:
        options["icc_profile"] = metadata.icc_profile
    if metadata.xmp:
        options["xmp"] = metadata.xmp
    buffer = _io.BytesIO()
    try:
        picture.save(buffer, fmt, **options)
    except (OSError, ValueError) as exc:
        raise OutputError(f"could not encode the image as {fmt} ({_reason(exc)})") from None
    return buffer.getvalue()


def save_image(
    path: str | os.PathLike,
    image: np.ndarray,
    overwrite: bool = False,
    quality: int | None = None,
    source: str | os.PathLike | None = None,
    metadata=None,
) -> Path:
    """Write an RGB or RGBA image atomically (format from the suffix; uint16 kept in PNG/TIFF).

    ``quality``: JPEG/WebP quality 1-100 (default :data:`DEFAULT_QUALITY`). ``metadata``: the
    :class:`~skyseg_core.io.metadata.PhotoMetadata` to write (EXIF, XMP, ICC profile; from
    :func:`read_metadata` of the input). ``source``: the input it was made from, which is never
    overwritten (see :func:`atomic_output`).
    """
    path = Path(path)
    fmt = _format_for(path)
    try:
        data = encode_image(image, fmt, quality=quality, metadata=metadata, name=path)
    except OutputError as exc:
        raise OutputError(str(exc), path) from None
    return write_bytes_atomic(path, lambda fh: fh.write(data), overwrite=overwrite, source=source)


def matte_to_uint8(matte: np.ndarray) -> np.ndarray:
    """Quantise a matte to uint8, 255 = sky (rounded to nearest; no full-size float temporaries)."""
    return to_codes(check_matte(matte), np.uint8, clip=False)


def save_matte(
    path: str | os.PathLike,
    matte: np.ndarray,
    overwrite: bool = False,
    source: str | os.PathLike | None = None,
) -> Path:
    """Write a matte as an 8-bit single-channel PNG (255 = sky), atomically; a ``.pgm`` name
    writes the same values as binary PGM (uncompressed: the plug-ins' fast exchange).

    Raises :class:`OutputError` if ``path`` exists and ``overwrite`` is false, if it is the
    same file as ``source`` (the photo the matte was made from), or if it cannot be written.
    """
    path = Path(path)
    if path.suffix.lower() not in MATTE_SUFFIXES:
        raise OutputError("mattes are written as PNG; give a .png file name", path)
    try:
        data = encode_image(
            matte_to_uint8(matte), "PNG" if path.suffix.lower() == ".png" else "PPM"
        )
    except OutputError as exc:
        raise OutputError(str(exc), path) from None
    return write_bytes_atomic(path, lambda fh: fh.write(data), overwrite=overwrite, source=source)
