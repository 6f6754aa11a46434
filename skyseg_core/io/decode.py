"""Image and matte input/output.

Loading applies EXIF orientation, brings greyscale, palette, alpha and CMYK images to RGB,
keeps 16-bit precision (uint16), and refuses images above a pixel limit before decoding them
(decompression bombs). Writing is atomic: a temporary file in the target folder, then a rename,
so a failed or interrupted write never leaves a partial file.
"""

from __future__ import annotations

import contextlib
import contextvars
import io as _io
import os
import secrets
import stat
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ._signals import created_unfinished, finished, held_back
from .errors import ImageTooLargeError, InputError, OutputError
from .matte import check_matte
from .metadata import PhotoMetadata, fitted, read_metadata  # noqa: F401  (part of the io API)
from .raw import RAW_SUFFIXES, develop_raw

DEFAULT_MAX_PIXELS = 200_000_000
"""Default pixel limit: a 200 MP photo loads, a forged 100000x100000 header does not."""

IMAGE_SUFFIXES = (
    ".jpg",
    ".jpeg",
    ".png",
    ".tif",
    ".tiff",
    ".webp",
    ".bmp",
    ".gif",
    ".ppm",
    ".pgm",
    ".pnm",
    *RAW_SUFFIXES,
)
"""File suffixes collected when a folder is given as input (a file given by name is read by
its content, whatever it is called)."""

READ_FORMATS = ("JPEG", "MPO", "PNG", "TIFF", "WEBP", "BMP", "DIB", "GIF", "PPM")
"""Pillow decoders :func:`load_image` lets near a file. Others (EPS runs Ghostscript, PSD,
ICO, ...) are refused: fewer parsers facing untrusted files, and no external programs."""

_SUPPORTED = "JPEG, PNG, TIFF, WebP, BMP, GIF or PPM"

_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"8BPS", 0, "a Photoshop PSD file"),
    (b"ftypheic", 4, "a HEIC photo"),
    (b"ftypheix", 4, "a HEIC photo"),
    (b"ftyphevc", 4, "a HEIC photo"),
    (b"ftypmif1", 4, "a HEIF/HEIC photo"),
    (b"ftypmsf1", 4, "a HEIF/HEIC photo"),
    (b"ftypavif", 4, "an AVIF image"),
    (b"%PDF", 0, "a PDF document"),
    (b"%!PS", 0, "a PostScript (EPS) file"),
    (b"\xc5\xd0\xd3\xc6", 0, "a PostScript (EPS) file"),
    (b"\x00\x00\x00\x0cjP  ", 0, "a JPEG 2000 image"),
    (b"\xff\x4f\xff\x51", 0, "a JPEG 2000 image"),
    (b"\xff\x0a", 0, "a JPEG XL image"),
    (b"\x00\x00\x00\x0cJXL ", 0, "a JPEG XL image"),
    (b"PK\x03\x04", 0, "a ZIP archive (OpenRaster, Krita or office file)"),
    (b"gimp xcf", 0, "a GIMP XCF file"),
    (b"\x00\x00\x01\x00", 0, "a Windows icon"),
)
"""Magic bytes of files people try that skyseg does not read, for a message that names them."""

_EXIF_ORIENTATION = 0x0112

MAX_JPEG_SCANS = 256
"""Most scans a JPEG may have. Each scan of a progressive JPEG is one more pass over the whole
image, so a small file with thousands of scans takes minutes to decode (20,000 scans in 345 KB:
148 s); libjpeg's progressive mode writes 10."""

JPEG_SCAN_PIXELS = 2_000_000_000
"""Decoding work allowed for a JPEG, in scans times pixels: up to 8 MP a photo may have
:data:`MAX_JPEG_SCANS` scans, a 16 MP one 119, from 62 MP up 32 (never fewer; the worst a
200 MP file can then ask for is about 5 s on one core)."""

MAX_PNG_CHUNKS = 100_000
"""Most chunks a PNG may have. Decoders handle each chunk in Python (about 8 us apiece), so 12 MB
of empty chunks took 8 s; a 350 MB PNG written in libpng's 8 KB IDAT chunks has about 45,000."""

MAX_JPEG_SEGMENTS = 4_096
"""Most marker segments besides scans a JPEG may have (each handled in Python while opening:
a million empty comments took 2 s); cameras write a few dozen."""

BYTES_PER_PIXEL_MAX = 12
"""The most bytes one pixel of a photo file takes (uncompressed 32-bit float RGB TIFF)."""

METADATA_SLACK = 16 << 20
"""Room for metadata (EXIF, ICC, XMP, thumbnails) on top of the pixels, in bytes."""

_HEADER_BYTES = 1 << 20
"""What is read first to learn the declared size (the rest is read only as far as needed)."""
_pillow_limit_lock = threading.Lock()
_pillow_limit_users = 0
_pillow_limit_saved: tuple[int | None, int] = (None, 0)  # Pillow's two limits while off


@contextlib.contextmanager
def _without_pillow_limit() -> Iterator[None]:
    """Switch Pillow's own decompression-bomb limit off while skyseg decodes (ours applies), and
    raise its limit on a PNG's compressed text and profile chunks (1 MB) to the largest profile
    skyseg reads (:data:`~skyseg_core.metadata.MAX_PROFILE_BYTES`).

    Pillow checks it in ``open`` and again while loading some formats (TIFF tiles, GIF frames),
    and its limit (about 179 MP) is below skyseg's. The setting is process-wide, so it stays off
    while any skyseg decode is running in any thread and comes back when the last one ends.
    """
    from PIL import Image, PngImagePlugin

    from .metadata import MAX_PROFILE_BYTES

    global _pillow_limit_users, _pillow_limit_saved
    with _pillow_limit_lock:
        if _pillow_limit_users == 0:
            _pillow_limit_saved = (Image.MAX_IMAGE_PIXELS, PngImagePlugin.MAX_TEXT_CHUNK)
            Image.MAX_IMAGE_PIXELS = None
            PngImagePlugin.MAX_TEXT_CHUNK = max(PngImagePlugin.MAX_TEXT_CHUNK, MAX_PROFILE_BYTES)
        _pillow_limit_users += 1
    try:
        yield
    finally:
        with _pillow_limit_lock:
            _pillow_limit_users -= 1
            if _pillow_limit_users == 0:
                Image.MAX_IMAGE_PIXELS, PngImagePlugin.MAX_TEXT_CHUNK = _pillow_limit_saved


_stderr_lock = threading.Lock()
_stderr_users = 0
_stderr_saved = -1


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send the C-level stderr (file descriptor 2) to the null device while decoders run.

    OpenCV, libtiff and libpng print warnings and errors of their own (2-8 lines for one bad
    file), which would break "one line per failed input": what they found is in the exception
    skyseg raises. Process-wide, like the descriptor: other threads' C-level stderr output is
    lost while any decode runs; Python-level output is flushed first.
    """
    global _stderr_users, _stderr_saved
    import sys

    with _stderr_lock:
        if _stderr_users == 0:
            try:
                sys.stderr.flush()
                null = os.open(os.devnull, os.O_WRONLY)
                try:
                    _stderr_saved = os.dup(2)
                    os.dup2(null, 2)
                finally:
                    os.close(null)
            except (OSError, ValueError, AttributeError):  # no descriptor 2 (embedded, pythonw)
                _stderr_saved = -1
        _stderr_users += 1
    try:
        yield
    finally:
        with _stderr_lock:
            _stderr_users -= 1
            if _stderr_users == 0 and _stderr_saved >= 0:
                os.dup2(_stderr_saved, 2)
                os.close(_stderr_saved)
                _stderr_saved = -1


def max_pixels_limit(max_pixels: int | None = None) -> int:
    """The pixel limit in force: the argument, else ``SKYSEG_MAX_PIXELS``, else the default."""
    if max_pixels is not None:
        if int(max_pixels) < 1:
            raise InputError(f"the pixel limit must be a positive number, got {max_pixels}")
        return int(max_pixels)
    env = os.environ.get("SKYSEG_MAX_PIXELS")
    if env:
        try:
            value = int(float(env))
        except (ValueError, OverflowError):
            raise InputError(f"SKYSEG_MAX_PIXELS must be a number of pixels, got {env!r}") from None
        if value < 1:
            raise InputError(f"SKYSEG_MAX_PIXELS must be a positive number of pixels, got {env!r}")
        return value
    return DEFAULT_MAX_PIXELS


def max_file_bytes(pixels: int) -> int:
    """The largest file a photo of ``pixels`` pixels can need (uncompressed samples plus metadata)."""
    return int(pixels) * BYTES_PER_PIXEL_MAX + METADATA_SLACK


NOT_REGULAR_FILE = "not a regular file (a pipe, socket or device)"
"""Why a FIFO, socket or device named as an image, matte or sky is refused (never read)."""


def _read_bytes(path: Path, limit: int = DEFAULT_MAX_PIXELS) -> bytes:
    """The bytes of a regular file a decoder needs, or an :class:`InputError` that says why not.

    Opened non-blocking and checked with ``fstat`` before reading, so a FIFO or device named
    like a photo is refused instead of hanging or reading forever. A file larger than any photo
    of ``limit`` pixels is refused unread; of the rest only as much is read as a photo of the
    size its header declares can use (trailing junk stays on disk).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        if path.is_symlink():
            raise InputError("no such file (the link points to a missing file)", path) from None
        raise InputError("no such file", path) from None
    except IsADirectoryError:
        raise InputError("is a folder, not an image file", path) from None
    except PermissionError:
        raise InputError("permission denied", path) from None
    except ValueError:  # a NUL byte, or a name the file system encoding cannot hold
        raise InputError("not a valid file name", path) from None
    except OSError as exc:  # symlink loops, name too long, I/O errors
        raise InputError(f"cannot read file ({exc.strerror or exc})", path) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError("is a folder, not an image file", path)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(NOT_REGULAR_FILE, path)
        if info.st_size > max_file_bytes(limit):
            raise InputError(
                f"file is {info.st_size:,} bytes, far larger than any photo of up to {limit:,} "
                "pixels (raise the limit with --max-pixels or SKYSEG_MAX_PIXELS)",
                path,
            )
        with os.fdopen(fd, "rb", closefd=True) as fh:
            fd = -1
            head = fh.read(_HEADER_BYTES)
            if len(head) < _HEADER_BYTES:
                return head
            need = _bytes_needed(head, info.st_size)
            if need <= len(head):
                return head
            del head
            fh.seek(0)
            return fh.read(need)  # one buffer of the needed size, not head + rest copied together
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or exc})", path) from None
    finally:
        if fd >= 0:
            os.close(fd)


def _bytes_needed(head: bytes, size: int) -> int:
    """How much of a ``size``-byte file to read, from its first bytes: all of it, unless its
    header declares a size whose photo could not use that much."""
    from PIL import Image

    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return size  # a TIFF may keep its directory at the end
    if (
        head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    ):  # its size, without walking its chunks
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        return min(size, max_file_bytes(width * height))
    try:
        _check_structure(head, None)
    except InputError:
        return len(head)  # refused from its start alone: read no more
    try:
        with _without_pillow_limit():
            with Image.open(_io.BytesIO(head), formats=_available_formats()) as img:
                width, height = img.size
    except Exception:  # not a header we understand from its start: the decoder will say why
        return size
    return min(size, max_file_bytes(width * height))


def _describe_unreadable(data: bytes) -> str:
    """Name what a file that no allowed decoder opens probably is, for the error message."""
    for magic, offset, what in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return f"{what}, which skyseg cannot read; convert it to {_SUPPORTED}"
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:200]:
        return (
            f"an HTML page, not an image (a download that went wrong?); skyseg reads {_SUPPORTED}"
        )
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return f"an SVG vector drawing, which skyseg cannot read; export it to {_SUPPORTED}"
    if head.startswith(b"<?xml"):
        return f"an XML file, not an image; skyseg reads {_SUPPORTED}"
    if _looks_like_text(data[:512]):
        return f"a text file, not an image; skyseg reads {_SUPPORTED}"
    return f"not an image file, or a format skyseg cannot read ({_SUPPORTED})"


def _looks_like_text(head: bytes) -> bool:
    """UTF-8 without control characters other than tab, newline, carriage return and form feed
    (a binary file of ASCII bytes and zeros is valid UTF-8, but not text). A multi-byte
    character cut at the end of ``head`` still counts as text."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:
            return False
        text = head[: exc.start].decode("utf-8")
    return bool(text) and not any(
        (ord(c) < 0x20 and c not in "\t\n\r\f") or ord(c) == 0x7F for c in text
    )


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


def _first_ifd_tags(data: bytes, wanted: tuple[int, ...]) -> dict[int, int]:
    """The first value of each ``wanted`` tag in a classic TIFF's first IFD, without decoding
    pixels; raises ``struct.error`` when the header is cut short."""
    import struct

    order = "<" if data[:2] == b"II" else ">"
    (offset,) = struct.unpack_from(order + "I", data, 4)
    (count,) = struct.unpack_from(order + "H", data, offset)
    tags = {}
    for i in range(min(count, 4096)):
        tag, kind, n, value = struct.unpack_from(order + "HHI4s", data, offset + 2 + 12 * i)
        if tag not in wanted:
            continue
        if tag == 258 and kind == 3 and n > 2:  # one BitsPerSample per sample, stored elsewhere
            (at,) = struct.unpack_from(order + "I", value)
            tags[tag] = struct.unpack_from(order + "H", data, at)[0]
        else:
            tags[tag] = struct.unpack_from(order + ("H" if kind == 3 else "I"), value)[0]
    return tags


def _tiff_header(data: bytes, path: Path) -> tuple[int, int, int]:
    """(width, height, orientation) from the first IFD of a classic TIFF, without decoding pixels."""
    import struct

    try:
        tags = _first_ifd_tags(data, (256, 257, _EXIF_ORIENTATION))
        orientation = tags.get(_EXIF_ORIENTATION, 1)
        return tags[256], tags[257], orientation if 1 <= orientation <= 8 else 1
    except (struct.error, KeyError):
        raise InputError("TIFF header is corrupt or truncated", path) from None


def _unsupported_tiff(data: bytes) -> str | None:
    """Name a kind of TIFF that neither Pillow nor OpenCV decodes (so it is not called corrupt)."""
    import struct

    try:
        tags = _first_ifd_tags(data, (258, 262, 277, 339))
    except struct.error:
        return None
    bits, photometric = tags.get(258, 1), tags.get(262, 1)
    if photometric == 5 and bits != 8:
        return f"a {bits}-bit CMYK TIFF"
    if photometric in (6, 8, 9, 10) and bits != 8:
        return f"a {bits}-bit {'YCbCr' if photometric == 6 else 'Lab'} TIFF"
    if photometric == 32844 or photometric == 32845:
        return "a LogLuv TIFF"
    return None


def _displayed_shape(height: int, width: int, orientation: int) -> tuple[int, int]:
    """(H, W) of a stored height x width image once ``orientation`` is applied."""
    return (width, height) if orientation >= 5 else (height, width)


def _available_formats() -> list[str]:
    """:data:`READ_FORMATS` this Pillow knows (MPO is part of JPEG in some versions)."""
    from PIL import Image

    Image.init()
    return [name for name in READ_FORMATS if name in Image.ID]


def _reason(exc: BaseException) -> str:
    """A one-line reason from a decoder exception."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


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
    return np.round(np.clip(values, 0.0, 1.0) * 65535.0).astype(np.uint16)


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
        (any format LibRaw reads, developed by :func:`skyseg_core.raw.develop_raw`). Other
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
    """:func:`load_image` and :func:`~skyseg_core.metadata.read_metadata` from one read of the
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


def _check_size(path: Path, width: int, height: int, limit: int) -> None:
    if width < 1 or height < 1:
        raise InputError(f"image has no pixels ({width}x{height})", path)
    if width * height > limit:
        raise ImageTooLargeError(path, width, height, limit)


_PIXELS_PER_BYTE = {"GIF": 3_000, "TIFF": 4_096, "JPEG": 4_096, "MPO": 4_096}
"""How many declared pixels one byte of each format can hold at the very most (for the
truncation check): GIF's LZW tops out near 2,730 pixels a byte, deflate (TIFF) near 1,032
bytes a byte, and a Huffman-coded JPEG needs at least one bit per 8x8 block (512 pixels a
byte). PNG is computed from its bit depth, lossy WebP allows a bit per macroblock with an 8x
margin. Lossless WebP (a one-colour image may take a few bytes at any size) and BMP (its
decoder refuses short data before touching the pixels) have no floor."""


def _check_work(data: bytes, fmt: str | None, width: int, height: int, path: Path) -> None:
    """Refuse, before any pixel is allocated, files whose decoding would be out of all
    proportion to their size: far too few bytes for the pixels the header declares (a
    truncated or forged file that decoders would fill with grey), a JPEG with more scans
    than :data:`MAX_JPEG_SCANS` and :data:`JPEG_SCAN_PIXELS` allow, a PNG with more than
    :data:`MAX_PNG_CHUNKS` chunks."""
    pixels = width * height
    if fmt == "PNG":
        minimum = _png_raw_bytes(data, width, height) // 1_100  # deflate: at most ~1032:1
    elif fmt in ("JPEG", "MPO") and _jpeg_is_arithmetic(data):
        minimum = pixels // 2**16
    elif (
        fmt == "WEBP"
    ):  # lossy VP8 codes each 16x16 macroblock's modes with fixed odds: about a bit
        lossy = data.find(b"VP8 ", 12, 1 << 16) >= 0 and data.find(b"VP8L", 12, 1 << 16) < 0
        minimum = pixels // 16_384 if lossy else 0
    elif fmt in _PIXELS_PER_BYTE:
        minimum = pixels // _PIXELS_PER_BYTE[fmt]
    else:
        minimum = 0
    if len(data) < minimum:
        raise InputError(
            f"file is truncated or forged: {len(data):,} bytes cannot hold the {width}x{height} "
            f"pixels its header declares (at least {minimum:,} bytes)",
            path,
        )
    if fmt in ("JPEG", "MPO"):
        allowed = max(32, min(MAX_JPEG_SCANS, JPEG_SCAN_PIXELS // max(1, pixels)))
        scans = _jpeg_scan_count(data, allowed + 1)
        if scans > allowed:
            raise InputError(
                f"JPEG has more than {allowed} scans (each one more decoding pass over all "
                f"{width}x{height} pixels): refused as hostile",
                path,
            )


def _check_structure(data: bytes, path: object) -> None:
    """Refuse, before any decoder parses it, a PNG or JPEG made of more chunks or marker
    segments than :data:`MAX_PNG_CHUNKS` / :data:`MAX_JPEG_SEGMENTS` (each costs Python time)."""
    if (
        data[:8] == b"\x89PNG\r\n\x1a\n"
        and _png_chunk_count(data, MAX_PNG_CHUNKS + 1) > MAX_PNG_CHUNKS
    ):
        raise InputError(f"PNG has more than {MAX_PNG_CHUNKS:,} chunks: refused as hostile", path)
    if data[:2] == b"\xff\xd8":
        count = 0
        for marker, _, _ in _jpeg_segments(data):
            count += marker != 0xDA  # scans are bounded on their own (see _check_work)
            if count > MAX_JPEG_SEGMENTS:
                raise InputError(
                    f"JPEG has more than {MAX_JPEG_SEGMENTS:,} marker segments: refused as hostile",
                    path,
                )


def _png_chunk_count(data: bytes, stop: int) -> int:
    """Number of chunks of a PNG up to IEND (or the end of the data), counting no further than ``stop``."""
    pos, n, count = 8, len(data), 0
    while pos + 8 <= n and count < stop:
        count += 1
        if data[pos + 4 : pos + 8] == b"IEND":
            break
        pos += 12 + int.from_bytes(data[pos : pos + 4], "big")
    return count


def _png_raw_bytes(data: bytes, width: int, height: int) -> int:
    """Size of a PNG's filtered, uncompressed image data, from its IHDR."""
    depth, colour = (data[24], data[25]) if len(data) > 25 else (8, 2)
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour, 1)
    return height * (1 + (width * channels * max(1, depth) + 7) // 8)


def _jpeg_segments(data: bytes):
    """(marker, start, end) of each marker segment of a JPEG, up to EOI; entropy-coded data skipped."""
    pos, n = 2, len(data)
    while pos + 1 < n:
        if data[pos] != 0xFF:
            return
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        if pos + 4 > n:
            return
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        yield marker, pos, end
        if (
            marker == 0xDA
        ):  # entropy-coded data runs to the next marker other than RSTn / stuffed FF00
            i = end
            while True:
                i = data.find(b"\xff", i)
                if i < 0 or i + 1 >= n:
                    return
                following = data[i + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    i += 2
                elif following == 0xFF:
                    i += 1
                else:
                    break
            end = i
        pos = end


def _jpeg_scan_count(data: bytes, stop: int) -> int:
    """Number of scans (SOS segments) of a JPEG, counting no further than ``stop``."""
    scans = 0
    for marker, _, _ in _jpeg_segments(data):
        if marker == 0xDA:
            scans += 1
            if scans >= stop:
                break
    return scans


def _jpeg_is_arithmetic(data: bytes) -> bool:
    """Whether the JPEG's frame is arithmetic-coded (SOF9-11, SOF13-15), which needs far fewer bits."""
    for marker, _, _ in _jpeg_segments(data):
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return marker >= 0xC9
    return False


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
    scale = 65535.0 if image.dtype == np.uint16 else 255.0
    return (image[..., 0].astype(np.float32) / np.float32(scale)).astype(np.float32)


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name the same file (links and hard links included); False if either is missing."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _temporary_file(folder: Path, path: Path) -> Path:
    """Create an empty hidden ``.<name>.<random>.part`` file in ``folder`` (mode from the umask),
    registered for removal should an interrupt end the process before it is published
    (:mod:`skyseg_core._signals`)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = folder / _temporary_name(path.name)
        try:
            created_unfinished(tmp, flags)
            return tmp
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(
                f"cannot write in the folder {folder} ({exc.strerror or exc})", path
            ) from None
        except ValueError:  # a NUL byte in the name
            raise OutputError("not a valid file name", path) from None
    raise OutputError(f"cannot create a temporary file in {folder}", path)


NAME_MAX = 255
"""Longest file name (bytes) most file systems take."""


def _temporary_name(name: str) -> str:
    """``.<name>.<random>.part``, with ``name`` shortened so the whole fits in :data:`NAME_MAX` bytes
    (an output named with 241-255 bytes is fine; its temporary name must be too)."""
    token = secrets.token_hex(4)
    room = NAME_MAX - len(f"..{token}.part")
    while name and len(os.fsencode(name)) > room:
        name = name[:-1]
    return f".{name}.{token}.part"


def remove_temporary_files(path: str | os.PathLike) -> None:
    """Remove the ``.part`` files of the output ``path`` that a writer killed outright (SIGKILL,
    the out-of-memory killer: no ``finally`` ran) left behind. Only for an output that no live
    process is writing."""
    import glob

    path = Path(path)
    head = _temporary_name(path.name)[: -len("01234567.part")]  # without its random token
    for leftover in (path.parent if str(path.parent) else Path(".")).glob(
        glob.escape(head) + "????????.part"
    ):
        with contextlib.suppress(OSError):
            leftover.unlink()


def _publish(tmp: Path, path: Path, overwrite: bool) -> None:
    """Move the finished temporary file onto ``path``; without ``overwrite``, never replace a file.

    The no-overwrite case uses a hard link, which fails atomically if ``path`` appeared in the
    meantime; file systems without hard links fall back to check-then-rename.
    """
    if overwrite:
        os.replace(tmp, path)
        finished(tmp)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise OutputError("already exists (use --overwrite to replace it)", path) from None
    except OSError:
        if os.path.lexists(path):
            raise OutputError("already exists (use --overwrite to replace it)", path) from None
        os.replace(tmp, path)
        finished(tmp)
        return
    os.unlink(tmp)
    finished(tmp)


def path_kind(
    path: str | os.PathLike, error: Callable[[str, object], Exception] = InputError
) -> str:
    """What ``path`` names, links followed: ``"folder"``, ``"file"`` (a regular file),
    ``"other"`` (a pipe, socket or device) or ``"missing"`` (nothing there, or a dangling link).

    The one way skyseg looks at a path it was given. ``Path.is_dir()``, ``is_file()`` and
    ``exists()`` raise ``PermissionError`` and ``OSError(ENAMETOOLONG)`` on Python 3.11 (a
    locked folder on the way, a name component over 255 bytes); here those, a symlink loop and a
    name no file system can hold raise ``error(message, path)`` (:class:`InputError`,
    :class:`OutputError`, :class:`ModelFileError`) naming the path and why, so the caller
    refuses that path alone.
    """
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except ValueError:  # a NUL byte, or a name the file system encoding cannot hold
        raise error("not a valid file name", path) from None
    except OSError as exc:
        raise error(f"cannot be looked at ({exc.strerror or exc})", path) from None
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "other"


def check_output(
    path: str | os.PathLike, overwrite: bool = False, source: str | os.PathLike | None = None
) -> Path:
    """Raise :class:`OutputError` now if ``path`` cannot take an output (before any work is done).

    Checks: not a folder, not the same file as ``source``, not existing unless ``overwrite``,
    and its folder exists. Writing can still fail later (full disk, permissions).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    folder_kind = path_kind(folder, OutputError)
    if path_kind(path, OutputError) == "folder":
        raise OutputError("is a folder; give a file name", path)
    if source is not None and same_file(path, source):
        raise OutputError("output would overwrite the input; choose another name or folder", path)
    if os.path.lexists(path) and not overwrite:
        raise OutputError("already exists (use --overwrite to replace it)", path)
    if folder_kind != "folder":
        raise OutputError(f"the output folder {folder} does not exist", path)
    return path


_pending_group: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "skyseg_pending_outputs", default=None
)
"""The finished temporary files of an :func:`all_or_nothing` block, waiting to be published."""


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike, overwrite: bool = False, source: str | os.PathLike | None = None
) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` if the block succeeds.

    Refuses to replace an existing file unless ``overwrite``, and refuses to write over
    ``source`` (the input the output was made from) even then. The temporary file is hidden
    (``.<name>.<random>.part``) and removed on any error or interrupt, so no partial output is
    ever left behind. Inside :func:`all_or_nothing` the finished file waits for the others.
    """
    path = check_output(path, overwrite=overwrite, source=source)
    tmp = _temporary_file(path.parent if str(path.parent) else Path("."), path)
    try:
        yield tmp
        group = _pending_group.get()
        if group is None:
            _publish(tmp, path, overwrite)
        else:
            group.append((tmp, path, overwrite))
    except OSError as exc:
        _remove_part(tmp)
        raise OutputError(f"cannot write file ({write_failure(exc)})", path) from None
    except BaseException:
        _remove_part(tmp)
        raise


@contextlib.contextmanager
def all_or_nothing() -> Iterator[None]:
    """Write several outputs together: all of them appear, or none does.

    Atomic writes inside the block (:func:`save_image`, :func:`save_matte`, ``write_ora``,
    ...) finish into their temporary files; only when the block succeeds are they moved into
    place. If the block fails, or one move fails (a file appeared meanwhile), the temporary
    files are removed and the outputs already moved that did not exist before are taken back.
    """
    pending: list[tuple[Path, Path, bool]] = []
    token = _pending_group.set(pending)
    try:
        yield
    except BaseException:
        _discard(pending)
        raise
    finally:
        _pending_group.reset(token)
    published: list[Path] = []
    try:
        for i, (tmp, path, overwrite) in enumerate(pending):
            existed = os.path.lexists(path)
            with held_back():  # published and recorded as such: no interrupt in between
                try:
                    _publish(tmp, path, overwrite)
                except OSError as exc:
                    raise OutputError(f"cannot write file ({exc.strerror or exc})", path) from None
                if not existed:
                    published.append(path)
            pending[i] = (tmp, path, False)
    except BaseException:
        _discard(pending)
        for path in published:
            with contextlib.suppress(OSError):
                path.unlink()
        raise


def _discard(pending: list[tuple[Path, Path, bool]]) -> None:
    for tmp, _, _ in pending:
        _remove_part(tmp)


def _remove_part(tmp: Path) -> None:
    """Remove a temporary file (already gone once published) and forget it."""
    with contextlib.suppress(OSError):
        tmp.unlink()
    finished(tmp)


def write_bytes_atomic(
    path: str | os.PathLike,
    write: Callable[[_io.BufferedWriter], object],  # a return value (bytes written) is ignored
    overwrite: bool = False,
    source: str | os.PathLike | None = None,
) -> Path:
    """Write a file atomically: ``write`` receives an open binary file (see :func:`atomic_output`).

    The data is flushed to disk before the rename, so a crash leaves the old file or the new
    one, never a torn one.
    """
    with atomic_output(path, overwrite=overwrite, source=source) as tmp:
        try:
            with open(tmp, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise OutputError(f"cannot write file ({write_failure(exc)})", path) from None
    return Path(path)


def write_failure(exc: OSError, outcome: str = "nothing was written") -> str:
    """Why a write failed, in words: a full disk or quota, and a file-size limit, say so
    followed by ``outcome`` (what the user is left with)."""
    import errno

    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return f"{exc.strerror}: the disk is full; {outcome}"
    if exc.errno == errno.EFBIG:
        return f"{exc.strerror}: over the file size limit of this file system or process; {outcome}"
    return str(exc.strerror or exc)


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
    ``metadata`` (a :class:`~skyseg_core.metadata.PhotoMetadata`) is written into the file:
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
        image = ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
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
        from .metadata import png_with_metadata, tiff_with_metadata

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
    :class:`~skyseg_core.metadata.PhotoMetadata` to write (EXIF, XMP, ICC profile; from
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
    import cv2

    check_matte(matte)
    if matte.size == 0:
        return np.zeros(matte.shape, np.uint8)
    return cv2.convertScaleAbs(matte, alpha=255.0)


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


def expand_inputs(inputs: list[str | os.PathLike], recursive: bool = False) -> list[Path]:
    """Expand files and folders (their images, sorted) into a list of paths.

    With ``recursive``, sub-folders are read too (see :func:`walk_inputs`). A missing or
    unreadable path, and a folder without images, is kept, so the caller reports it as a
    failed input in order.
    """
    return [entry.path for entry in walk_inputs(inputs, recursive)]


class InputEntry(NamedTuple):
    """One input of a run: an image file, or a path to report as failed in its place."""

    path: Path
    folder: Path = Path()
    """The sub-folder it was found in, relative to the folder given (``Path()`` for a file given
    directly)."""
    error: InputError | None = None
    """Why this path gives no image when the loader could not tell (a folder that cannot be
    listed); None otherwise."""


def walk_inputs(
    inputs: list[str | os.PathLike],
    recursive: bool = False,
    skip: tuple[str | os.PathLike, ...] = (),
) -> list[InputEntry]:
    """Each input image as an :class:`InputEntry`, in order.

    Files given directly are their own entry. Folders give their images sorted by name, then
    (with ``recursive``) each sub-folder's, depth first in name order; hidden folders
    (``.name``), folders in ``skip`` (an output folder inside the tree) and links to folders
    are not entered, so a link loop cannot recur. A missing path and a folder without images
    are kept as one entry so the caller reports them in order; a path that cannot be looked
    at and a folder or sub-folder that cannot be listed are kept with their ``error``.
    """
    skipped = {os.path.realpath(p) for p in skip}
    entries: list[InputEntry] = []
    for item in inputs:
        item = Path(item)
        try:
            is_folder = path_kind(item) == "folder"
        except InputError as exc:
            entries.append(InputEntry(item, error=exc))
            continue
        found = _folder_images(item, recursive, skipped) if is_folder else []
        entries.extend(found or [InputEntry(item)])
    return entries


def _folder_images(folder: Path, recursive: bool, skipped: set[str]) -> list[InputEntry]:
    found: list[InputEntry] = []

    def unreadable(exc: OSError) -> None:  # os.walk's report of a folder it cannot list
        where = Path(exc.filename) if exc.filename else folder
        found.append(
            InputEntry(
                where,
                error=InputError(
                    f"cannot read the folder ({exc.strerror or exc}); its photos are left out",
                    where,
                ),
            )
        )

    for root, dirs, files in os.walk(folder, onerror=unreadable):
        dirs[:] = (
            sorted(
                d
                for d in dirs
                if not d.startswith(".") and os.path.realpath(os.path.join(root, d)) not in skipped
            )
            if recursive
            else []
        )
        rel = Path(root).relative_to(folder)
        for name in sorted(files):
            path = Path(root) / name
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                if path_kind(path) == "file":
                    found.append(InputEntry(path, rel))
            except InputError as exc:
                found.append(InputEntry(path, rel, exc))
    return found


def subfolders(folder: str | os.PathLike) -> list[Path]:
    """The visible sub-folders of ``folder`` (none if it is no readable folder)."""
    try:
        return sorted(
            p for p in Path(folder).iterdir() if not p.name.startswith(".") and p.is_dir()
        )
    except OSError:
        return []
