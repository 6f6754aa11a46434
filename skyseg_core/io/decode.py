"""Photo bytes to pixels: :func:`load_image`, :func:`decode_image`, :func:`load_matte`.

EXIF orientation applied, greyscale, palette, alpha and CMYK brought to RGB, 16-bit kept
(uint16), camera RAW photos developed (:mod:`.raw`), every bound of :mod:`.bounds` checked from
the header first. :func:`load_image_with_metadata` gives the pixels and the metadata from one read.
"""

from __future__ import annotations

import io as _io
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..depth import to_codes, to_float
from ..errors import InputError
from .bounds import (
    _check_size,
    _check_structure,
    _check_work,
    _quiet_stderr,
    _read_bytes,
    _without_pillow_limit,
    max_pixels_limit,
)
from .formats import (
    _EXIF_ORIENTATION,
    _available_formats,
    _describe_unreadable,
    _reason,
    _tiff_header,
    _unsupported_tiff,
)
from .metadata import PhotoMetadata, read_metadata
from .raw import develop_raw


def _open_image(data: bytes, path: Path):
    """Open (header only) with Pillow's allowed decoders and our own pixel limit, not Pillow's."""
    from PIL import Image, UnidentifiedImageError

    try:
        with _without_pillow_limit():  # our limit was checked instead (see decode_image)
            return Image.open(_io.BytesIO(data), formats=_available_formats())
    except UnidentifiedImageError:
        if data[:4] in (b"II*\x00", b"MM\x00*"):
            return None  # a TIFF Pillow cannot represent (float or odd samples): OpenCV decodes it
        raise InputError(_describe_unreadable(data), path) from None
    except Exception as exc:
        raise InputError(f"cannot open image ({_reason(exc)})", path) from None


def _displayed_shape(height: int, width: int, orientation: int) -> tuple[int, int]:
    """(H, W) of a stored height x width image once ``orientation`` is applied."""
    return (width, height) if orientation >= 5 else (height, width)


def _orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to an (H, W, ...) array."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: a.swapaxes(0, 1)[:, ::-1],
        7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],
        8: lambda a: a.swapaxes(0, 1)[::-1],
    }
    op = ops.get(orientation)
    return pixels if op is None else np.ascontiguousarray(op(pixels))


def _orientation_of(img) -> int:
    """The EXIF orientation (1-8), 1 when absent or unreadable."""
    try:
        value = img.getexif().get(_EXIF_ORIENTATION, 1)
        value = int(value[0] if isinstance(value, tuple | list) else value)
    except Exception:  # a broken EXIF block must not cost the photo
        return 1
    return value if 1 <= value <= 8 else 1


def _is_16bit_colour(img) -> bool:
    """Whether Pillow would truncate this image's 16-bit colour samples to 8 bits."""
    if img.format == "PNG":
        return any(tile[3] and "16" in str(tile[3]) for tile in img.tile) and img.mode != "I;16"
    if img.format == "TIFF":
        bits = img.tag_v2.get(258)
        bits = bits if isinstance(bits, tuple) else (bits,)
        # 16-bit CMYK: OpenCV cannot read it; Pillow reads it (as 8-bit CMYK, fine for a photo to segment)
        return bits[0] == 16 and len(bits) >= 3 and img.mode != "CMYK"
    if (
        img.format == "PPM"
    ):  # Pillow scales 16-bit Netpbm samples to 8 bits; other maxvals it scales right
        return any(isinstance(tile.args, tuple) and tile.args[-1] == 65535 for tile in img.tile)
    return False


def _cv2_decode(data: bytes, path: Path) -> np.ndarray:
    """Decode with OpenCV (16-bit colour, float TIFF), to RGB; alpha dropped."""
    import cv2

    buf = np.frombuffer(data, np.uint8)
    try:
        pixels = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error as exc:
        raise InputError(f"image data is corrupt or truncated ({_reason(exc)})", path) from None
    if pixels is None:
        raise InputError("image data is corrupt or truncated", path)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.shape[2] >= 3:
        pixels = pixels[..., 2::-1]  # BGR(A) -> RGB
    else:
        pixels = np.repeat(pixels[..., :1], 3, axis=2)
    if pixels.dtype in (np.float32, np.float64):
        pixels = _float_to_uint16(pixels)
    elif pixels.dtype not in (np.uint8, np.uint16):
        raise InputError(f"unsupported sample type {pixels.dtype}", path)
    return np.ascontiguousarray(pixels)


def _float_to_uint16(values: np.ndarray) -> np.ndarray:
    """Float samples (taken as [0, 1], NaN as 0) to uint16, keeping more than 8 bits."""
    values = np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=0.0)
    return to_codes(values, np.uint16)


def _pil_to_rgb(img) -> np.ndarray:
    """Convert any Pillow image to an RGB uint8 or uint16 array (alpha dropped)."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        grey = np.asarray(img).astype(np.uint16)
        return np.repeat(grey[..., None], 3, axis=2)
    if mode == "I":
        grey = np.clip(np.asarray(img), 0, 65535).astype(np.uint16)
        return np.repeat(grey[..., None], 3, axis=2)
    if mode == "F":
        return np.repeat(_float_to_uint16(np.asarray(img))[..., None], 3, axis=2)
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode != "RGB":  # convert() of an RGB image is a full copy: skip it
        img = img.convert("RGB")
    return np.asarray(img)


def load_image(path: str | os.PathLike, max_pixels: int | None = None) -> np.ndarray:
    """Load a photo as an RGB array.

    Parameters
    ----------
    path : path-like
        A JPEG, PNG, TIFF, WebP, BMP or GIF file (GIF: first frame), or a camera RAW photo
        (any format LibRaw reads, developed by :func:`skyseg_core.io.raw.develop_raw`). Other
        formats (HEIC, PSD, SVG, PDF, EPS, ...) are refused with a message that names them.
    max_pixels : int, optional
        Refuse images with more pixels than this, checked from the header before decoding.
        Defaults to ``SKYSEG_MAX_PIXELS`` or :data:`DEFAULT_MAX_PIXELS`.

    Returns
    -------
    image : ndarray, shape (H, W, 3), dtype uint8 or uint16
        EXIF orientation applied; 16-bit and float files and RAW photos become uint16
        (floats taken as [0, 1]), everything else is uint8. Alpha is dropped.

    Raises
    ------
    InputError
        Missing path, folder, pipe or device, unreadable, not an image, unsupported format,
        corrupt or truncated data. The message starts with the path.
    ImageTooLargeError
        More pixels than ``max_pixels``.
    """
    path = Path(path)
    limit = max_pixels_limit(max_pixels)
    return decode_image(_read_bytes(path, limit), path, max_pixels=limit)


def load_image_with_metadata(
    path: str | os.PathLike, max_pixels: int | None = None
) -> tuple[np.ndarray, PhotoMetadata]:
    """:func:`load_image` and :func:`~skyseg_core.io.metadata.read_metadata` from one read of the
    file: the pixels and what the photo says about itself come from the same bytes."""
    path = Path(path)
    limit = max_pixels_limit(max_pixels)
    data = _read_bytes(path, limit)
    return decode_image(data, path, max_pixels=limit), read_metadata(data, name=path)


def decode_image(data: bytes, name: object = None, max_pixels: int | None = None) -> np.ndarray:
    """Decode image file bytes as :func:`load_image` does (``name`` labels error messages).

    For images that arrive in memory (worker, clipboard) and for fuzzing the decoders.
    """
    path: Any = name  # only names the input in messages
    limit = max_pixels_limit(max_pixels)
    if not data:
        raise InputError("file is empty (0 bytes)", path)
    _check_structure(data, path)
    developed = develop_raw(data, path, limit)  # a camera RAW, known by LibRaw opening it
    if developed is not None:
        return developed
    with warnings.catch_warnings(), _without_pillow_limit(), _quiet_stderr():
        # Decoder warnings (corrupt EXIF, odd chunks) must neither print nor, under
        # warnings-as-errors, abort a load that otherwise succeeds.
        warnings.simplefilter("ignore")
        img = _open_image(data, path)
        if img is None:
            # OpenCV's TIFF decoder applies the orientation tag itself (tests pin it).
            width, height, orientation = _tiff_header(data, path)
            _check_size(path, width, height, limit)
            _check_work(data, "TIFF", width, height, path)
            unsupported = _unsupported_tiff(data)
            if unsupported:
                raise InputError(
                    f"{unsupported}, which skyseg cannot read; convert it to 8- or 16-bit RGB", path
                )
            pixels = _cv2_decode(data, path)
            if pixels.shape[:2] != _displayed_shape(height, width, orientation):
                raise InputError("decoded size does not match the header", path)
            return pixels
        try:
            width, height = img.size
            _check_size(path, width, height, limit)
            _check_work(data, img.format, width, height, path)
            deep_colour = _is_16bit_colour(img)  # before getexif(), which may load a PNG
            orientation = _orientation_of(img)
            img.seek(0)
            if img.format == "PNG":
                _verify_png(data, path)
            if deep_colour:
                pixels = _cv2_decode(data, path)
                applied = orientation if img.format == "TIFF" else 1  # OpenCV orients TIFFs only
            else:
                img.load()
                pixels = _pil_to_rgb(img)
                # Pillow's TIFF decoder applies (and then drops) the orientation tag on load.
                tags = getattr(img, "tag_v2", None)
                applied = (
                    orientation
                    if img.format == "TIFF" and tags is not None and _EXIF_ORIENTATION not in tags
                    else 1
                )
        except InputError:
            raise
        except Exception as exc:
            raise InputError(f"image data is corrupt or truncated ({_reason(exc)})", path) from None
        finally:
            img.close()
    # Pillow reports a TIFF's size already turned by its orientation: accept either.
    if pixels.shape[:2] not in ((height, width), _displayed_shape(height, width, applied)):
        raise InputError("decoded size does not match the header", path)
    return pixels if applied != 1 else _orient(pixels, orientation)


def _verify_png(data: bytes, path: Path) -> None:
    """Check every PNG chunk's CRC (Pillow's decoder skips those of the image data)."""
    from PIL import Image

    try:
        with _without_pillow_limit():
            img = Image.open(_io.BytesIO(data), formats=("PNG",))
        img.verify()
    except Exception as exc:
        raise InputError(f"image data is corrupt or truncated ({_reason(exc)})", path) from None


def load_matte(path: str | os.PathLike, max_pixels: int | None = None) -> np.ndarray:
    """Load a matte PNG (8- or 16-bit greyscale, 255/65535 = sky) as a float32 (H, W) matte."""
    image = load_image(path, max_pixels=max_pixels)
    return to_float(image[..., 0])
