"""Image and matte input/output.

Loading applies EXIF orientation, brings greyscale, palette, alpha and CMYK images to RGB,
keeps 16-bit precision (uint16), and refuses images above a pixel limit before decoding them
(decompression bombs). Writing is atomic: a temporary file in the target folder, then a rename,
so a failed or interrupted write never leaves a partial file.
"""

from __future__ import annotations

import contextlib
import io as _io
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from .errors import ImageTooLargeError, InputError, OutputError
from .matte import check_matte, to_uint8_rgb

DEFAULT_MAX_PIXELS = 200_000_000
"""Default pixel limit: a 200 MP photo loads, a forged 100000x100000 header does not."""

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif")
"""File suffixes collected when a folder is given as input."""

_EXIF_ORIENTATION = 0x0112


def max_pixels_limit(max_pixels: int | None = None) -> int:
    """The pixel limit in force: the argument, else ``SKYSEG_MAX_PIXELS``, else the default."""
    if max_pixels is not None:
        return int(max_pixels)
    env = os.environ.get("SKYSEG_MAX_PIXELS")
    if env:
        try:
            return int(float(env))
        except ValueError:
            raise InputError(f"SKYSEG_MAX_PIXELS must be a number, got {env!r}") from None
    return DEFAULT_MAX_PIXELS


def _read_bytes(path: Path) -> bytes:
    if not path.exists() and not path.is_symlink():
        raise InputError("no such file", path)
    try:
        if path.is_dir():
            raise InputError("is a folder, not an image file", path)
        return path.read_bytes()
    except InputError:
        raise
    except PermissionError:
        raise InputError("permission denied", path) from None
    except OSError as exc:  # symlink loops, I/O errors
        raise InputError(f"cannot read file ({exc.strerror or exc})", path) from None


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


def _is_16bit_colour(img) -> bool:
    """Whether Pillow would truncate this image's 16-bit colour samples to 8 bits."""
    if img.format == "PNG":
        return any(tile[3] and "16" in str(tile[3]) for tile in img.tile) and img.mode != "I;16"
    if img.format == "TIFF":
        bits = img.tag_v2.get(258)
        bits = bits if isinstance(bits, tuple) else (bits,)
        return bits[0] == 16 and len(bits) >= 3
    return False


def _decode_16bit_colour(data: bytes, path: Path) -> np.ndarray:
    import cv2

    buf = np.frombuffer(data, np.uint8)
    pixels = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    if pixels is None or pixels.ndim != 3:
        raise InputError("cannot decode this 16-bit image", path)
    pixels = pixels[..., :3][..., ::-1]  # BGR(A) -> RGB
    if pixels.dtype == np.uint8:
        return np.ascontiguousarray(pixels)
    return np.ascontiguousarray(pixels.astype(np.uint16, copy=False))


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
        grey = np.clip(np.asarray(img), 0.0, 1.0)
        return np.repeat(np.round(grey * 65535).astype(np.uint16)[..., None], 3, axis=2)
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    return np.asarray(img.convert("RGB"))


def load_image(path: str | os.PathLike, max_pixels: int | None = None) -> np.ndarray:
    """Load a photo as an RGB array.

    Parameters
    ----------
    path : path-like
        Any image file Pillow reads (JPEG, PNG, TIFF, WebP, BMP, GIF: first frame).
    max_pixels : int, optional
        Refuse images with more pixels than this, checked from the header before decoding.
        Defaults to ``SKYSEG_MAX_PIXELS`` or :data:`DEFAULT_MAX_PIXELS`.

    Returns
    -------
    image : ndarray, shape (H, W, 3), dtype uint8 or uint16
        EXIF orientation applied; 16-bit files stay uint16, everything else is uint8.

    Raises
    ------
    InputError
        Missing path, folder, unreadable, not an image, corrupt or truncated.
    ImageTooLargeError
        More pixels than ``max_pixels``.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    data = _read_bytes(path)
    if not data:
        raise InputError("file is empty", path)
    limit = max_pixels_limit(max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            old_limit = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None  # our own limit below, checked before decoding
            try:
                img = Image.open(_io.BytesIO(data))
            finally:
                Image.MAX_IMAGE_PIXELS = old_limit
    except UnidentifiedImageError:
        raise InputError("not an image file, or a format skyseg cannot read", path) from None
    except Exception as exc:
        raise InputError(f"cannot open image ({exc})", path) from None
    sixteen_bit_colour = _is_16bit_colour(img)  # before anything decodes (decoding clears img.tile)
    width, height = img.size
    if width < 1 or height < 1:
        raise InputError(f"image has no pixels ({width}x{height})", path)
    if width * height > limit:
        raise ImageTooLargeError(path, width, height, limit)
    try:
        orientation = int(img.getexif().get(_EXIF_ORIENTATION, 1) or 1)
    except Exception:
        orientation = 1
    try:
        img.seek(0)
        if sixteen_bit_colour:
            pixels = _decode_16bit_colour(data, path)
        else:
            img.load()
            pixels = _pil_to_rgb(img)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"image data is corrupt or truncated ({exc})", path) from None
    if pixels.shape[:2] != (height, width):
        raise InputError("decoded size does not match the header", path)
    return _orient(pixels, orientation)


def load_matte(path: str | os.PathLike, max_pixels: int | None = None) -> np.ndarray:
    """Load a matte PNG (8- or 16-bit greyscale, 255/65535 = sky) as a float32 (H, W) matte."""
    image = load_image(path, max_pixels=max_pixels)
    scale = 65535.0 if image.dtype == np.uint16 else 255.0
    return (image[..., 0].astype(np.float32) / np.float32(scale)).astype(np.float32)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` if the block succeeds.

    Refuses to replace an existing file unless ``overwrite``; the temporary file is removed on
    any error, so no partial output is ever left behind.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError("is a folder; give a file name", path)
    if path.exists() and not overwrite:
        raise OutputError("already exists (use --overwrite to replace it)", path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError("output folder does not exist", folder)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix + ".part", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write in this folder ({exc.strerror or exc})", folder) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_bytes_atomic(path: str | os.PathLike, write: Callable[[_io.BufferedWriter], None], overwrite: bool = False) -> Path:
    """Write a file atomically: ``write`` receives an open binary file."""
    with atomic_output(path, overwrite=overwrite) as tmp:
        try:
            with open(tmp, "wb") as fh:
                write(fh)
        except OSError as exc:
            raise OutputError(f"cannot write file ({exc.strerror or exc})", path) from None
    return Path(path)


def _format_for(path: Path) -> str:
    suffix = path.suffix.lower()
    formats = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}
    if suffix not in formats:
        raise OutputError(f"unsupported output format {suffix or '(none)'}; use .png, .jpg, .tif or .webp", path)
    return formats[suffix]


def encode_image(image: np.ndarray, fmt: str, quality: int = 95) -> bytes:
    """Encode an RGB (H, W, 3) or grey (H, W) uint8/uint16 array into PNG, JPEG, TIFF or WebP bytes.

    16-bit arrays stay 16-bit in PNG and TIFF; JPEG and WebP are 8-bit.
    """
    import cv2

    image = np.asarray(image)
    if image.dtype == np.uint16 and fmt in ("JPEG", "WEBP"):
        image = to_uint8_rgb(image) if image.ndim == 3 else ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if image.dtype not in (np.uint8, np.uint16):
        raise OutputError(f"cannot encode an image of dtype {image.dtype}")
    bgr = image[..., ::-1] if image.ndim == 3 else image
    ext = {"PNG": ".png", "JPEG": ".jpg", "TIFF": ".tif", "WEBP": ".webp"}[fmt]
    params = {"JPEG": [cv2.IMWRITE_JPEG_QUALITY, quality], "WEBP": [cv2.IMWRITE_WEBP_QUALITY, quality]}.get(fmt, [])
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(bgr), params)
    if not ok:
        raise OutputError(f"could not encode the image as {fmt}")
    return buf.tobytes()


def save_image(path: str | os.PathLike, image: np.ndarray, overwrite: bool = False, quality: int = 95) -> Path:
    """Write an RGB image atomically (format from the suffix; uint16 kept in PNG/TIFF)."""
    path = Path(path)
    data = encode_image(image, _format_for(path), quality=quality)
    return write_bytes_atomic(path, lambda fh: fh.write(data), overwrite=overwrite)


def matte_to_uint8(matte: np.ndarray) -> np.ndarray:
    """Quantise a matte to uint8, 255 = sky."""
    check_matte(matte)
    return np.round(matte * 255.0).astype(np.uint8)


def save_matte(path: str | os.PathLike, matte: np.ndarray, overwrite: bool = False) -> Path:
    """Write a matte as an 8-bit single-channel PNG (255 = sky), atomically.

    Raises :class:`OutputError` if ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise OutputError("mattes are written as PNG; give a .png file name", path)
    data = encode_image(matte_to_uint8(matte), "PNG")
    return write_bytes_atomic(path, lambda fh: fh.write(data), overwrite=overwrite)


def expand_inputs(inputs: list[str | os.PathLike]) -> list[Path]:
    """Expand files and folders (their images, sorted, not recursive) into a list of paths.

    A missing path is kept, so the caller reports it as a failed input in order.
    """
    paths: list[Path] = []
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            paths.extend(sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()))
        else:
            paths.append(item)
    return paths
