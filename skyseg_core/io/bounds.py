"""The bounds of reading a photo, checked before any pixel is decoded.

The pixel limit (:func:`max_pixels_limit`), the largest file a photo can need, the structure
and decoding-work checks on PNG and JPEG files, Pillow's own limit switched off while ours
applies, C-level decoder chatter silenced, and :func:`_read_bytes`: a file's bytes, read only as
far as a photo of its declared size can use.
"""

from __future__ import annotations

import contextlib
import io as _io
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

from ..errors import ImageTooLargeError, InputError
from .formats import (
    _available_formats,
    _jpeg_is_arithmetic,
    _jpeg_scan_count,
    _jpeg_segments,
    _png_chunk_count,
    _png_raw_bytes,
)
from .paths import NOT_REGULAR_FILE
from .profiles import MAX_PROFILE_BYTES

DEFAULT_MAX_PIXELS = 200_000_000
"""Default pixel limit: a 200 MP photo loads, a forged 100000x100000 header does not."""


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
    skyseg reads (:data:`~skyseg_core.io.profiles.MAX_PROFILE_BYTES`).

    Pillow checks it in ``open`` and again while loading some formats (TIFF tiles, GIF frames),
    and its limit (about 179 MP) is below skyseg's. The setting is process-wide, so it stays off
    while any skyseg decode is running in any thread and comes back when the last one ends.
    """
    from PIL import Image, PngImagePlugin

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
