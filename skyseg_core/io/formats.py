"""What skyseg knows of image file formats without decoding pixels.

The Pillow decoders it lets near a file, the magic bytes of files it refuses by name, and the
structure of TIFF (first directory), PNG (chunks) and JPEG (marker segments, scans) files.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError

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


def _available_formats() -> list[str]:
    """:data:`READ_FORMATS` this Pillow knows (MPO is part of JPEG in some versions)."""
    from PIL import Image

    Image.init()
    return [name for name in READ_FORMATS if name in Image.ID]


def _reason(exc: BaseException) -> str:
    """A one-line reason from a decoder exception."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


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
