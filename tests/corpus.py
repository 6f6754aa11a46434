"""A generated corpus of bad and unusual inputs, shared by every surface's hardening test.

Nothing here is a checked-in blob: each case writes its input (and, for output cases, the
obstacle in the output's way) into a fresh folder. A case says what must happen: ``ok`` (a
matte of ``shape`` is written; ``dtype`` is what :func:`skyseg_core.load_image` returns) or
``error`` (one clear message naming ``mentions``: the input, the output or the model file; the
CLI exits 2). Whatever happens, the input stays byte-identical and no partial or ``.part`` file
is left behind (:func:`snapshot` and :meth:`Prepared.check_files`).

A new surface (worker, editor) adds its hardening test in a few lines::

    from tests.corpus import CASES, snapshot

    @pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
    def test_worker_survives(case, tmp_path, monkeypatch):
        job = case.prepare(tmp_path, monkeypatch)   # input, output, env, options
        before = snapshot(tmp_path)
        ... run the surface on job.input -> job.output (job.max_pixels, job.method) ...
        job.check_files(before, produced=case.ok)
        # ok: check the matte has case.shape; error: one message naming job.mentioned

``BATCHABLE`` are the cases that need no special option, for mixed good/bad batch tests.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.dngmake import dng_bytes, with_declared_size

ROOT_DIR = Path(__file__).resolve().parents[1]
"""The checkout (for ``PYTHONPATH`` of subprocesses)."""

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
"""Root reads chmod-000 files and writes into read-only folders: those cases expect success."""

PATTERN_H, PATTERN_W = 48, 64
"""The asymmetric orientation pattern's displayed size (height, width)."""


# --------------------------------------------------------------------------- pixel sources


def photo(height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """A small sky-over-ground RGB uint8 photo (the shared synthetic landscape)."""
    from tests.conftest import synthetic_landscape

    return synthetic_landscape(height, width, seed=seed)[0]


def orientation_pattern() -> np.ndarray:
    """A displayed-orientation pattern no flip or rotation maps onto itself.

    Four flat quadrants: top-left red, top-right green, bottom-left blue, bottom-right white;
    wider than high. Flat 8x8-aligned blocks survive JPEG well enough to compare block means.
    """
    image = np.zeros((PATTERN_H, PATTERN_W, 3), np.uint8)
    h2, w2 = PATTERN_H // 2, PATTERN_W // 2
    image[:h2, :w2] = (255, 0, 0)
    image[:h2, w2:] = (0, 255, 0)
    image[h2:, :w2] = (0, 0, 255)
    image[h2:, w2:] = (255, 255, 255)
    return image


def quadrant_means(image: np.ndarray) -> np.ndarray:
    """Mean colour of each quadrant (TL, TR, BL, BR) of an (H, W, 3) image, as (4, 3) floats."""
    h2, w2 = image.shape[0] // 2, image.shape[1] // 2
    quads = (image[:h2, :w2], image[:h2, w2:], image[h2:, :w2], image[h2:, w2:])
    # Trim a margin inside each quadrant: JPEG rings at the borders.
    return np.array([q[2:-2, 2:-2].reshape(-1, 3).mean(axis=0) for q in quads])


def matches_orientation_pattern(image: np.ndarray) -> bool:
    """Whether ``image`` shows :func:`orientation_pattern` the right way up (within JPEG error)."""
    if image.shape[:2] != (PATTERN_H, PATTERN_W):
        return False
    return bool(np.abs(quadrant_means(image) - quadrant_means(orientation_pattern())).max() < 24)


# --------------------------------------------------------------------------- encoders


def _pil_bytes(image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def _from_array(array: np.ndarray, mode: str | None = None):
    from PIL import Image

    return Image.fromarray(array) if mode is None else Image.fromarray(array).convert(mode)


def _cv2_bytes(array: np.ndarray, ext: str) -> bytes:
    import cv2

    if array.ndim == 3:
        array = array[..., [2, 1, 0, 3]] if array.shape[2] == 4 else array[..., ::-1]
    bgr = array
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(bgr))
    assert ok, ext
    return buf.tobytes()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with a valid CRC."""
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR (valid CRC) claims ``width`` x ``height`` 8-bit RGB pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small valid JPEG with its SOF0 frame header patched to claim ``width`` x ``height``."""
    data = bytearray(_pil_bytes(_from_array(photo(16, 16)), "JPEG"))
    at = data.find(b"\xff\xc0")
    assert at > 0
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_claiming(width: int, height: int) -> bytes:
    """A 35-byte GIF whose logical screen claims ``width`` x ``height`` (one 1x1 frame inside)."""
    header = (
        b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    )
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return header + frame + b"\x3b"


def webp_claiming(width: int, height: int) -> bytes:
    """A 54-byte lossy WebP whose VP8 frame header claims ``width`` x ``height`` (it cost 816 MB)."""
    data = bytearray(_pil_bytes(_from_array(photo(16, 16)), "WEBP", quality=80))
    at = data.find(b"\x9d\x01\x2a")  # the VP8 key frame start code, then width and height
    data[at + 3 : at + 7] = struct.pack("<HH", width, height)
    return bytes(data)


def bmp_claiming(width: int, height: int) -> bytes:
    """An uncompressed 24-bit BMP header claiming ``width`` x ``height`` with 64 bytes of pixels."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 54 + 64, 0, 0, 54) + info + bytes(64)


def tiff_claiming(width: int, height: int) -> bytes:
    """A tiny uncompressed TIFF whose header claims ``width`` x ``height`` grey pixels (16 stored)."""
    data = bytearray(tiff_bytes(np.full((4, 4), 128, np.uint8)))
    for tag, value in ((256, width), (257, height), (278, height)):
        at = data.find(struct.pack("<HHI", tag, 4, 1), 8)
        data[at + 8 : at + 12] = struct.pack("<I", value)
    return bytes(data)


def png_with_chunks(count: int) -> bytes:
    """A good PNG with ``count`` empty private chunks after its header (1,000,000: 12 MB, 8 s)."""
    good = _good_png()
    return good[:33] + png_chunk(b"prVt", b"") * count + good[33:]


def jpeg_with_segments(count: int) -> bytes:
    """A good JPEG with ``count`` empty comment segments after SOI (1,000,000: 4 MB)."""
    good = _good_jpeg()
    return good[:2] + b"\xff\xfe\x00\x02" * count + good[2:]


def jpeg_with_scans(scans: int, size: int = 2048) -> bytes:
    """A progressive grey JPEG whose smallest scan (16 bytes) is repeated to make ``scans`` scans.

    At 2048x2048, 20,000 scans are about 345 KB and took 148 s to decode: each scan is one more
    pass over every block. libjpeg decodes the repeats (with a warning), so it is a valid file.
    """
    from skyseg_core.io import _jpeg_segments

    data = _pil_bytes(_from_image_mode("L", size), "JPEG", progressive=True, quality=90)
    starts = [start for marker, start, _ in _jpeg_segments(data) if marker == 0xDA]
    eoi = data.rfind(b"\xff\xd9")
    bounds = [*starts, eoi]
    pieces = [data[bounds[i] : bounds[i + 1]] for i in range(len(starts))]
    smallest = min(pieces[1:], key=len)
    return data[:eoi] + smallest * max(0, scans - len(pieces)) + b"\xff\xd9"


def _from_image_mode(mode: str, size: int):
    from PIL import Image

    return Image.new(mode, (size, size), 128)


def trailing_zeros(data: bytes, size: int) -> Callable[[Path], Path]:
    """A writer of ``data`` followed by zeros up to ``size`` bytes (sparse: costs no disk)."""

    def make(folder: Path) -> Path:
        path = folder / f"trailing_zeros_{size >> 20}MB.jpg"
        with open(path, "wb") as fh:
            fh.write(data)
            fh.truncate(size)
        return path

    return make


def huge_file(size: int) -> Callable[[Path], Path]:
    """A sparse file of ``size`` bytes that starts like a JPEG."""

    def make(folder: Path) -> Path:
        path = folder / f"huge_{size >> 30}GB.jpg"
        with open(path, "wb") as fh:
            fh.write(b"\xff\xd8\xff")
            fh.truncate(size)
        return path

    return make


def jpeg_with_exif(array: np.ndarray, orientation: int) -> bytes:
    """A JPEG of ``array`` whose EXIF Orientation tag is ``orientation``."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = orientation
    return _pil_bytes(_from_array(array), "JPEG", quality=95, exif=exif.tobytes())


def stored_for_orientation(displayed: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels a camera stores so that EXIF ``orientation`` displays ``displayed``.

    From the EXIF definition of the tag (where row 0 and column 0 of the stored image sit in
    the displayed one), written independently of the loader's own table.
    """
    d = displayed
    stored = {
        1: d,
        2: d[:, ::-1],  # mirrored horizontally
        3: d[::-1, ::-1],  # rotated 180
        4: d[::-1],  # mirrored vertically
        5: d.transpose(1, 0, 2),  # transposed: stored row 0 = displayed column 0
        6: np.rot90(d, 1),  # display rotates 90 clockwise, so stored is 90 counter-clockwise
        7: d[::-1, ::-1].transpose(1, 0, 2),  # transverse
        8: np.rot90(d, -1),  # display rotates 90 counter-clockwise
    }[orientation]
    return np.ascontiguousarray(stored)


def cmyk_jpeg() -> bytes:
    from PIL import Image

    image = Image.new("CMYK", (64, 48), (0, 255, 255, 0))  # pure red in CMYK
    return _pil_bytes(image, "JPEG", quality=95)


def palette_png(transparency: bool) -> bytes:
    image = _from_array(photo()).convert("P", palette=1, colors=16)  # 1 = Image.Palette.ADAPTIVE
    params = {"transparency": 0} if transparency else {}
    return _pil_bytes(image, "PNG", **params)


def animated_gif() -> bytes:
    from PIL import Image

    frames = [
        Image.new("RGB", (40, 30), colour) for colour in ((255, 0, 0), (0, 0, 255), (0, 255, 0))
    ]
    return _pil_bytes(
        frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0
    )


def float_tiff_grey() -> bytes:
    from PIL import Image

    values = np.linspace(0.0, 1.0, 48 * 64, dtype=np.float32).reshape(48, 64)
    return _pil_bytes(Image.fromarray(values, mode="F"), "TIFF")


def float_tiff_rgb() -> bytes:
    values = photo().astype(np.float32) / 255.0
    return _cv2_bytes(values, ".tiff")


def tiff16_grey() -> bytes:
    from PIL import Image

    values = (np.arange(48 * 64, dtype=np.uint16).reshape(48, 64) * 13 + 1000).astype(np.uint16)
    return _pil_bytes(Image.fromarray(values), "TIFF")


def tiff_bytes(array: np.ndarray, orientation: int = 1, photometric: int | None = None) -> bytes:
    """An uncompressed little-endian TIFF of ``array`` (uint8/uint16/float32, grey or RGB) with
    Orientation tag ``orientation``: written by hand, so no library decides what the tag means."""
    a = np.ascontiguousarray(array)
    height, width = a.shape[:2]
    spp = 1 if a.ndim == 2 else a.shape[2]
    pixels = a.astype(a.dtype.newbyteorder("<")).tobytes()
    n_tags = 11
    extra_at = 8 + 2 + 12 * n_tags + 4  # after the header and the one IFD
    extra = b""

    def shorts(values: list[int]) -> tuple[int, int, bytes]:
        nonlocal extra
        packed = struct.pack(f"<{len(values)}H", *values)
        if len(packed) <= 4:
            return 3, len(values), packed.ljust(4, b"\0")
        offset = extra_at + len(extra)
        extra += packed
        return 3, len(values), struct.pack("<I", offset)

    def one(tag: int, value: int, kind: int = 3) -> tuple[int, int, int, bytes]:
        return tag, kind, 1, struct.pack("<H" if kind == 3 else "<I", value).ljust(4, b"\0")

    bits = shorts([a.dtype.itemsize * 8] * spp)
    sample_format = shorts([3 if a.dtype.kind == "f" else 1] * spp)
    data_at = extra_at + len(extra)
    tags = [
        one(256, width, 4),
        one(257, height, 4),
        (258, *bits),
        one(259, 1),
        one(262, photometric or (2 if spp >= 3 else 1)),
        one(273, data_at, 4),
        one(274, orientation),
        one(277, spp),
        one(278, height, 4),
        one(279, len(pixels), 4),
        (339, *sample_format),
    ]
    assert len(tags) == n_tags
    ifd = (
        struct.pack("<H", n_tags)
        + b"".join(struct.pack("<HHI", t, k, c) + v for t, k, c, v in tags)
        + bytes(4)
    )
    return b"II*\x00" + struct.pack("<I", 8) + ifd + extra + pixels


PRECISE16 = (photo().astype(np.uint16) * 257 + np.uint16(77)).astype(np.uint16)
"""A 16-bit photo whose values are not multiples of 257: 8-bit truncation would show."""


def jpeg_bogus_exif() -> bytes:
    """A valid JPEG with an APP1 Exif segment full of garbage (broken IFD offsets)."""
    base = _pil_bytes(_from_array(photo()), "JPEG")
    payload = b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 0xFFFFFF00) + bytes(range(256)) * 2
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return base[:2] + segment + base[2:]


def jpeg_bad_orientation_value() -> bytes:
    return jpeg_with_exif(photo(), 9)


def png_bad_crc() -> bytes:
    data = bytearray(_pil_bytes(_from_array(photo()), "PNG"))
    at = data.find(b"IDAT")
    data[at + 8] ^= 0xFF  # a byte inside the compressed data: the CRC no longer matches
    return bytes(data)


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: max(1, int(len(data) * keep))]


# --------------------------------------------------------------------------- cases


@dataclass
class Prepared:
    """One case laid out in a folder: what to pass to a surface and what must be named."""

    folder: Path
    input: Path
    output: Path
    overwrite: bool = False
    max_pixels: int | None = None
    method: str = "color"
    env: dict[str, str] = field(default_factory=dict)
    mentioned: str = ""
    """The path (as a string) an error message must contain."""

    def check_files(self, before: dict[str, str], produced: bool) -> None:
        """Assert: inputs unchanged, no partial/.part file, and only the output is new if ``produced``."""
        after = snapshot(self.folder)
        parts = [name for name in after if name.endswith(".part") or "/." in "/" + name]
        assert not parts, f"temporary files left behind: {parts}"
        changed = {name for name in before if before[name] != after.get(name)}
        output = _rel(self.output, self.folder)
        if produced:
            changed.discard(output)
            assert output in after, f"output {output} was not written"
        assert not changed, f"files changed or removed: {sorted(changed)}"
        new = set(after) - set(before) - ({output} if produced else set())
        assert not new, f"unexpected new files: {sorted(new)}"


@dataclass(frozen=True)
class Case:
    """A corpus entry: how to make it and what must happen.

    ``make(folder)`` writes the input (returning its path, or a dict of Prepared fields).
    ``expect`` is ``"ok"`` or ``"error"``; ``error`` the API's exception class name;
    ``shape`` the (H, W) of the matte on success; ``dtype`` what load_image returns;
    ``check`` an extra test on the loaded image; ``mentions`` which path the error names.
    """

    name: str
    make: Callable[[Path], Path | dict]
    expect: str = "ok"
    shape: tuple[int, int] | None = None
    dtype: str | None = "uint8"
    error: str | None = None
    match: str | None = None
    mentions: str = "input"
    check: Callable[[np.ndarray], bool] | None = None
    batchable: bool = True

    @property
    def ok(self) -> bool:
        return self.expect == "ok"

    def prepare(self, folder: Path, monkeypatch=None) -> Prepared:
        """Lay the case out under ``folder`` (its ``in/`` and ``out/``); apply its env if given a monkeypatch."""
        (folder / "in").mkdir(parents=True, exist_ok=True)
        (folder / "out").mkdir(parents=True, exist_ok=True)
        made = self.make(folder / "in")
        spec = made if isinstance(made, dict) else {"input": made}
        source = spec["input"]
        job = Prepared(
            folder=folder,
            input=source,
            output=spec.get("output", folder / "out" / f"{source.stem}.png"),
        )
        for key in ("overwrite", "max_pixels", "method", "env"):
            if key in spec:
                setattr(job, key, spec[key])
        job.mentioned = str(
            spec.get("mentioned")
            or {"input": job.input, "output": job.output}.get(self.mentions, "")
        )
        if monkeypatch is not None:
            for key, value in job.env.items():
                monkeypatch.setenv(key, value)
            if job.method != "color":  # methods keep their loaded model: start from none
                from skyseg_core import methods

                monkeypatch.setattr(methods, "_instances", {})
        return job


def _rel(path: Path, folder: Path) -> str:
    try:
        return str(Path(os.path.abspath(path)).relative_to(os.path.abspath(folder)))
    except ValueError:
        return str(path)


def snapshot(folder: Path) -> dict[str, str]:
    """SHA-256 of every regular file under ``folder`` (relative names; links and specials named only)."""
    result: dict[str, str] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            rel = _rel(path, folder)
            if path.is_symlink():
                result[rel] = "link:" + os.readlink(path)
            elif name in files:
                try:
                    mode = path.stat().st_mode
                    if not os.path.isfile(path):
                        result[rel] = f"special:{mode:o}"
                        continue
                    info = path.stat()
                    if (
                        info.st_size > 64 << 20
                    ):  # the sparse multi-GB cases: size and time, not 3 GB of hashing
                        result[rel] = f"large:{info.st_size}:{info.st_mtime_ns}"
                        continue
                    result[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
                except PermissionError:
                    result[rel] = f"unreadable:{path.stat().st_size}"
    return result


def _writer(name: str, data: bytes | Callable[[], bytes]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data() if callable(data) else data)
        return path

    return make


def _good_jpeg() -> bytes:
    return _pil_bytes(_from_array(photo()), "JPEG", quality=90)


def _good_png() -> bytes:
    return _pil_bytes(_from_array(photo()), "PNG")


def _ok(name, data, shape=(48, 64), dtype="uint8", check=None) -> Case:
    return Case(name, _writer(name, data), "ok", shape=shape, dtype=dtype, check=check)


def _bad(name, data, error="InputError", match=None) -> Case:
    return Case(name, _writer(name, data), "error", error=error, match=match)


def _orientation_case(orientation: int) -> Case:
    name = f"exif_orientation_{orientation}.jpg"

    def data():
        return jpeg_with_exif(
            stored_for_orientation(orientation_pattern(), orientation), orientation
        )

    return _ok(name, data, shape=(PATTERN_H, PATTERN_W), check=matches_orientation_pattern)


_LUMA = np.array([0.299, 0.587, 0.114])
_TIFF_KINDS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], str]] = {
    "rgb8": (lambda a: a, "uint8"),
    "rgb16": (lambda a: a.astype(np.uint16) * 257, "uint16"),
    "float_rgb": (lambda a: a.astype(np.float32) / 255, "uint16"),
    "grey8": (lambda a: np.round(a @ _LUMA).astype(np.uint8), "uint8"),
    "grey16": (lambda a: np.round(a @ _LUMA).astype(np.uint16) * 257, "uint16"),
    "float_grey": (lambda a: (np.round(a @ _LUMA) / 255).astype(np.float32), "uint16"),
}
"""TIFF sample kinds: stored pixels from the 8-bit RGB pattern, and what load_image returns."""


def _shows_pattern(grey: bool) -> Callable[[np.ndarray], bool]:
    """Whether a loaded image (uint8 or uint16) shows the orientation pattern the right way up."""

    def check(image: np.ndarray) -> bool:
        image8 = (image // 257).astype(np.uint8) if image.dtype == np.uint16 else image
        if not grey:
            return matches_orientation_pattern(image8)
        expected = np.round(orientation_pattern() @ _LUMA)
        if image8.shape[:2] != expected.shape:
            return False
        h2, w2 = PATTERN_H // 2, PATTERN_W // 2
        for rows in (slice(0, h2), slice(h2, None)):
            for cols in (slice(0, w2), slice(w2, None)):
                if (
                    abs(float(image8[rows, cols, 0].mean()) - float(expected[rows, cols].mean()))
                    > 2
                ):
                    return False
        return True

    return check


def _tiff_orientation_case(kind: str, orientation: int) -> Case:
    convert, dtype = _TIFF_KINDS[kind]
    stored = stored_for_orientation(orientation_pattern(), orientation)
    return _ok(
        f"tiff_{kind}_orientation_{orientation}.tif",
        lambda: tiff_bytes(convert(stored), orientation),
        shape=(PATTERN_H, PATTERN_W),
        dtype=dtype,
        check=_shows_pattern(kind.startswith(("grey", "float_grey"))),
    )


def _png16_with(chunk: bytes) -> bytes:
    """The 16-bit PNG of :data:`PRECISE16` with ``chunk`` inserted after IHDR."""
    good = _cv2_bytes(PRECISE16, ".png")
    return good[:33] + chunk + good[33:]


def _cmyk16_red() -> np.ndarray:
    cmyk = np.zeros((48, 64, 4), np.uint16)
    cmyk[..., 1:3] = 65535  # magenta + yellow = red
    return cmyk


def _tiff_bad_compression() -> bytes:
    data = bytearray(tiff_bytes(photo().astype(np.float32) / 255))
    at = data.find(struct.pack("<HHIH", 259, 3, 1, 1))
    data[at + 8] = 99  # compression 99: no such scheme
    return bytes(data)


def _is_red(image: np.ndarray) -> bool:
    r, g, b = image.reshape(-1, 3).astype(float).mean(axis=0)
    return r > 150 and g < 90 and b < 90


def _equals(expected: np.ndarray) -> Callable[[np.ndarray], bool]:
    return lambda image: image.shape == expected.shape and bool(np.array_equal(image, expected))


def _grey16_equals(image: np.ndarray) -> bool:
    from PIL import Image

    expected = np.asarray(Image.open(io.BytesIO(tiff16_grey())))
    return (
        image.dtype == np.uint16
        and bool(np.array_equal(image[..., 0], expected))
        and bool(np.array_equal(image[..., 0], image[..., 2]))
    )


def _symlink_to_good(folder: Path) -> Path:
    target = folder / "real photo.jpg"
    target.write_bytes(_good_jpeg())
    link = folder / "link.jpg"
    link.symlink_to(target)
    return link


def _symlink_loop(folder: Path) -> Path:
    a, b = folder / "loop_a.jpg", folder / "loop_b.jpg"
    a.symlink_to(b)
    b.symlink_to(a)
    return a


def _dangling(folder: Path) -> Path:
    link = folder / "dangling.jpg"
    link.symlink_to(folder / "gone.jpg")
    return link


def _directory(folder: Path) -> Path:
    path = folder / "a folder.jpg"
    path.mkdir()
    return path


def _fifo(folder: Path) -> Path:
    path = folder / "pipe.jpg"
    os.mkfifo(path)
    return path


def _unreadable(folder: Path) -> Path:
    path = folder / "unreadable.jpg"
    path.write_bytes(_good_jpeg())
    path.chmod(0)
    return path


def _output_case(name: str, arrange: Callable[[Path, Path], dict]) -> Callable[[Path], dict]:
    def make(folder: Path) -> dict:
        source = folder / name
        source.write_bytes(_good_jpeg())
        return {"input": source, **arrange(folder, source)}

    return make


def _readonly_out(folder: Path, source: Path) -> dict:
    out = folder.parent / "readonly"
    out.mkdir()
    out.chmod(0o555)
    return {"output": out / "m.png"}


def _out_missing_folder(folder: Path, source: Path) -> dict:
    return {"output": folder.parent / "no such folder" / "m.png"}


def _out_is_folder(folder: Path, source: Path) -> dict:
    out = folder.parent / "out" / "taken.png"
    out.mkdir()
    return {"output": out}


def _out_exists(folder: Path, source: Path) -> dict:
    out = folder.parent / "out" / "exists.png"
    out.write_bytes(b"an earlier result, keep it")
    return {"output": out}


def _out_is_input(folder: Path, source: Path) -> dict:
    same = folder / "self.png"
    same.write_bytes(_good_png())
    source.unlink()
    return {"input": same, "output": same, "overwrite": True}


def _out_is_input_hardlink(folder: Path, source: Path) -> dict:
    other = folder.parent / "out" / "hardlink.png"
    same = folder / "original.png"
    same.write_bytes(_good_png())
    source.unlink()
    os.link(same, other)
    return {"input": same, "output": other, "overwrite": True}


def _out_long_name(length: int, char: str = "m") -> Callable[[Path, Path], dict]:
    """An output whose name is ``length`` bytes (the temporary name must still fit in 255)."""

    def arrange(folder: Path, source: Path) -> dict:
        stem = char * ((length - 4) // len(char.encode()))
        return {
            "output": folder.parent / "out" / f"{stem}{'x' * (length - 4 - len(stem.encode()))}.png"
        }

    return arrange


def _out_wrong_suffix(folder: Path, source: Path) -> dict:
    return {"output": folder.parent / "out" / "m.jpg"}


def _max_pixels_arg(folder: Path, source: Path) -> dict:
    return {"max_pixels": 1000}


def _max_pixels_env(folder: Path, source: Path) -> dict:
    return {"env": {"SKYSEG_MAX_PIXELS": "1000"}}


def _max_pixels_env_bogus(folder: Path, source: Path) -> dict:
    return {"env": {"SKYSEG_MAX_PIXELS": "lots"}, "mentioned": "SKYSEG_MAX_PIXELS"}


def _max_pixels_generous(folder: Path, source: Path) -> dict:
    return {"max_pixels": 48 * 64}


def _model_case(damage: str) -> Callable[[Path], dict]:
    """A good photo, ``--method classifier``, and the bundled model folder replaced by a damaged copy."""

    def make(folder: Path) -> dict:
        from skyseg_core import models

        source = folder / f"model_{damage}.jpg"
        source.write_bytes(_good_jpeg())
        bundled = models.models_dir() / "classifier.onnx"
        store = folder / "models"
        store.mkdir()
        model = store / bundled.name
        data = bundled.read_bytes()
        sidecar = models.sidecar_path(bundled).read_bytes()
        env = {models.MODELS_DIR_ENV: str(store)}
        if damage == "missing":
            return {"input": source, "method": "classifier", "env": env, "mentioned": str(model)}
        if damage == "truncated":
            data = data[: len(data) // 2]
        elif damage == "tampered":
            data = data[:100] + bytes([data[100] ^ 1]) + data[101:]
        elif damage == "user_file_corrupt":  # the user's own model (no sidecar), not loadable
            model = folder / "my model.onnx"
            model.write_bytes(b"not an onnx graph" * 10)
            return {
                "input": source,
                "method": "classifier",
                "mentioned": str(model),
                "env": {"SKYSEG_CLASSIFIER_MODEL": str(model)},
            }
        model.write_bytes(data)
        if damage != "no_checksum":
            models.sidecar_path(model).write_bytes(sidecar)
        return {"input": source, "method": "classifier", "env": env, "mentioned": str(model)}

    return make


def _auto_case(situation: str) -> Callable[[Path], dict]:
    """A good photo, ``--method auto``, and model files damaged or missing where the user pointed.

    ``auto`` may skip a method whose file is simply absent; it must not skip one whose file is
    there but damaged, or missing from a folder or path the user named (class: silent fallback).
    """

    def make(folder: Path) -> dict:
        from skyseg_core import models

        source = folder / f"auto_{situation}.jpg"
        source.write_bytes(_good_jpeg())
        store = folder / "models"
        bundled = models.models_dir()

        def copy(name: str, keep: float = 1.0, sidecar: bool = True, into: Path = store) -> Path:
            into.mkdir(exist_ok=True)
            data = (bundled / name).read_bytes()
            (into / name).write_bytes(data[: int(len(data) * keep)])
            if sidecar:
                models.sidecar_path(into / name).write_bytes(
                    models.sidecar_path(bundled / name).read_bytes()
                )
            return into / name

        env_dir = {models.MODELS_DIR_ENV: str(store)}
        if situation == "models_dir_empty":
            store.mkdir()
            return {"input": source, "method": "auto", "env": env_dir, "mentioned": str(store)}
        if situation == "models_dir_missing":
            return {"input": source, "method": "auto", "env": env_dir, "mentioned": str(store)}
        if situation == "bundled_truncated":
            copy("sky_unet.onnx")
            bad = copy("classifier.onnx", keep=0.5)
            return {"input": source, "method": "auto", "env": env_dir, "mentioned": str(bad)}
        # the environment cases damage the model of the method auto picks first (the DeepLab
        # where it ships, else the blend's two): a damaged file auto would not run is no fallback
        first = (
            (("sky_deeplab.onnx", "SKYSEG_DEEPLAB_MODEL"),)
            if (bundled / "sky_deeplab.onnx").is_file()
            else ()
        )
        truncated, truncated_env = (*first, ("classifier.onnx", "SKYSEG_CLASSIFIER_MODEL"))[0]
        missing, missing_env = (*first, ("sky_unet.onnx", "SKYSEG_UNET_MODEL"))[0]
        if situation == "env_truncated":
            bad = copy(truncated, keep=0.5, into=folder / "mine")
            return {
                "input": source,
                "method": "auto",
                "env": {truncated_env: str(bad)},
                "mentioned": str(bad),
            }
        if situation == "env_missing":
            gone = folder / "gone" / missing
            return {
                "input": source,
                "method": "auto",
                "env": {missing_env: str(gone)},
                "mentioned": str(gone),
            }
        if (
            situation == "default_truncated"
        ):  # the first choice damaged: no quiet step down to blend
            copy("sky_unet.onnx")
            copy("classifier.onnx")
            bad = copy("sky_deeplab.onnx", keep=0.5)
            return {"input": source, "method": "auto", "env": env_dir, "mentioned": str(bad)}
        if (
            situation == "only_classifier"
        ):  # the U-Net is just not there: auto may pick the classifier
            copy("classifier.onnx")
            return {"input": source, "method": "auto", "env": env_dir}
        raise ValueError(situation)

    return make


CASES: list[Case] = [
    # --- ordinary and unusual images that must work
    _ok("baseline.jpg", _good_jpeg),
    _ok("baseline_png.png", _good_png),
    _ok("progressive.jpg", lambda: _pil_bytes(_from_array(photo()), "JPEG", progressive=True)),
    _ok("interlaced.png", lambda: _cv2_bytes(photo(), ".png")),
    _ok("grey.jpg", lambda: _pil_bytes(_from_array(photo(), "L"), "JPEG")),
    _ok("grey_png.png", lambda: _pil_bytes(_from_array(photo(), "L"), "PNG")),
    _ok("bilevel.png", lambda: _pil_bytes(_from_array(photo(), "1"), "PNG")),
    _ok("palette.png", lambda: palette_png(False)),
    _ok("palette_transparency.png", lambda: palette_png(True)),
    _ok("rgba.png", lambda: _pil_bytes(_from_array(photo(), "RGBA"), "PNG")),
    _ok("la.png", lambda: _pil_bytes(_from_array(photo(), "LA"), "PNG")),
    _ok(
        "rgb16.png", lambda: _cv2_bytes(PRECISE16, ".png"), dtype="uint16", check=_equals(PRECISE16)
    ),
    _ok(
        "rgba16.png",
        lambda: _cv2_bytes(np.dstack([PRECISE16, np.full((48, 64), 65535, np.uint16)]), ".png"),
        dtype="uint16",
        check=_equals(PRECISE16),
    ),
    _ok(
        "grey16.png",
        lambda: _cv2_bytes(PRECISE16[..., 1], ".png"),
        dtype="uint16",
        check=_equals(np.repeat(PRECISE16[..., 1:2], 3, axis=2)),
    ),
    # libpng warns on stderr about these while OpenCV decodes them (silenced: a good file prints nothing)
    _ok(
        "noisy_png16_bad_iccp.png",
        lambda: _png16_with(png_chunk(b"iCCP", b"bogus\x00\x00" + zlib.compress(b"no"))),
        dtype="uint16",
        check=_equals(PRECISE16),
    ),
    _ok(
        "noisy_png16_bad_time.png",
        lambda: _png16_with(png_chunk(b"tIME", bytes(7))),
        dtype="uint16",
        check=_equals(PRECISE16),
    ),
    _ok(
        "rgb16_tif.tif",
        lambda: _cv2_bytes(PRECISE16, ".tif"),
        dtype="uint16",
        check=_equals(PRECISE16),
    ),
    _ok("grey16_tif.tif", tiff16_grey, dtype="uint16", check=_grey16_equals),
    _ok("rgb8.tif", lambda: _pil_bytes(_from_array(photo()), "TIFF", compression="tiff_lzw")),
    _ok("float_grey.tif", float_tiff_grey, dtype="uint16"),
    _ok("float_rgb.tif", float_tiff_rgb, dtype="uint16"),
    _ok("cmyk.jpg", cmyk_jpeg, check=_is_red),
    _ok("cmyk_tif.tif", lambda: _pil_bytes(_from_array(photo(), "CMYK"), "TIFF")),
    _ok("cmyk16_tif.tif", lambda: tiff_bytes(_cmyk16_red(), photometric=5), check=_is_red),
    *[_orientation_case(k) for k in range(1, 9)],
    # TIFF orientation: the decoders apply tag 274 themselves (applying it again mirrored photos)
    *[
        _tiff_orientation_case(kind, k)
        for kind in ("rgb8", "rgb16", "float_rgb")
        for k in range(1, 9)
    ],
    *[
        _tiff_orientation_case(kind, k)
        for kind in ("grey8", "grey16", "float_grey")
        for k in (2, 5, 6)
    ],
    _ok("bad_orientation_value.jpg", jpeg_bad_orientation_value),
    _ok("bogus_exif.jpg", jpeg_bogus_exif),
    _ok("one_pixel.png", lambda: _pil_bytes(_from_array(photo(1, 1)), "PNG"), shape=(1, 1)),
    _ok(
        "thin_3x20000.png",
        lambda: _pil_bytes(_from_array(photo(3, 20000)), "PNG"),
        shape=(3, 20000),
    ),
    _ok(
        "tall_20000x3.png",
        lambda: _pil_bytes(_from_array(photo(20000, 3)), "PNG"),
        shape=(20000, 3),
    ),
    _ok("animated.gif", animated_gif, shape=(30, 40), check=_is_red),
    _ok(
        "lossless.webp",
        lambda: _pil_bytes(_from_array(photo()), "WEBP", lossless=True),
        check=_equals(photo()),
    ),
    _ok("lossy.webp", lambda: _pil_bytes(_from_array(photo()), "WEBP", quality=80)),
    _ok("bitmap.bmp", lambda: _pil_bytes(_from_array(photo()), "BMP"), check=_equals(photo())),
    _ok("png named.jpg", _good_png, check=_equals(photo())),
    # --- camera RAW (tests/dngmake.py): developed to 16 bits; a damaged one is one clear line
    _ok("dng_bayer.dng", lambda: dng_bytes(photo()), dtype="uint16"),
    _ok("dng_linear.dng", lambda: dng_bytes(photo(), linear=True), dtype="uint16"),
    _ok("dng named.jpg", lambda: dng_bytes(photo()), dtype="uint16"),
    _ok(
        "dng_turned.dng", lambda: dng_bytes(photo(), orientation=6), shape=(64, 48), dtype="uint16"
    ),
    _bad("dng_truncated.dng", lambda: dng_bytes(photo())[:4000], match="RAW"),
    _bad(
        "dng_forged_size.dng",
        lambda: with_declared_size(dng_bytes(photo()), 14000, 14000),
        match="RAW",
    ),
    _ok("ciel bleu – été 空.jpg", _good_jpeg),
    # --- names that must not reach a terminal raw (the CLI shows control characters as escapes)
    _ok("ansi \x1b[31mred\x1b[0m.jpg", _good_jpeg),
    _bad("new\nline.jpg", b"This is not a photo, just some text.\n", match="not an image"),
    Case("symlink.jpg", _symlink_to_good, "ok", shape=(48, 64)),
    Case(
        "unreadable.jpg",
        _unreadable,
        "ok" if IS_ROOT else "error",
        shape=(48, 64),
        error="InputError",
        match="permission denied",
    ),
    # --- inputs that must be refused with one clear message
    _bad("empty.jpg", b"", match="empty"),
    _bad("truncated.jpg", lambda: truncated(_good_jpeg()), match="truncated"),
    _bad("truncated_png.png", lambda: truncated(_good_png()), match="truncated"),
    _bad("truncated16.png", lambda: truncated(_cv2_bytes(PRECISE16, ".png")), match="truncated"),
    _bad("truncated16_tif.tif", lambda: truncated(_cv2_bytes(PRECISE16, ".tif"), 0.6)),
    _bad("header_only.jpg", lambda: _good_jpeg()[:200]),
    # --- decoder noise: OpenCV and libtiff print lines of their own on these (silenced: one line)
    _bad(
        "noisy_float_tiff_truncated.tif",
        lambda: truncated(tiff_bytes(photo().astype(np.float32) / 255), 0.6),
    ),
    _bad("noisy_rgb16_tiff_truncated.tif", lambda: truncated(tiff_bytes(PRECISE16), 0.7)),
    _bad("noisy_float_tiff_bad_compression.tif", lambda: _tiff_bad_compression()),
    _bad("noisy_float_tiff_two_samples.tif", lambda: tiff_bytes(np.zeros((8, 8, 2), np.float32))),
    _bad(
        "float_cmyk.tif",
        lambda: tiff_bytes(np.zeros((8, 8, 4), np.float32), photometric=5),
        match="CMYK TIFF",
    ),
    _bad("bad_crc.png", png_bad_crc),
    _bad("text.jpg", b"This is not a photo, just some text.\n" * 3, match="not an image"),
    _bad(
        "page.jpg", b"<!DOCTYPE html>\n<html><body><img src='x.jpg'></body></html>\n", match="HTML"
    ),
    _bad("noise.png", lambda: np.random.default_rng(1).bytes(4096), match="not an image"),
    _bad(
        "bomb_100000x100000.png",
        lambda: png_claiming(100_000, 100_000),
        error="ImageTooLargeError",
        match="100000x100000",
    ),
    _bad("bomb_65000x65000.jpg", lambda: jpeg_claiming(65_000, 65_000), error="ImageTooLargeError"),
    _bad("zero_width.png", lambda: png_claiming(0, 10)),
    # --- header vs data size: far too few bytes for the declared pixels, refused before allocating
    _bad(
        "jpeg_659_bytes_14000x14000.jpg",
        lambda: jpeg_claiming(14_000, 14_000),
        match="truncated or forged",
    ),
    _bad(
        "gif_35_bytes_14000x14000.gif",
        lambda: gif_claiming(14_000, 14_000),
        match="truncated or forged",
    ),
    _bad(
        "png_tiny_14000x14000.png",
        lambda: png_claiming(14_000, 14_000),
        match="truncated or forged",
    ),
    _bad(
        "tiff_tiny_14000x14000.tif",
        lambda: tiff_claiming(14_000, 14_000),
        match="truncated or forged",
    ),
    _bad(
        "webp_tiny_14000x14000.webp",
        lambda: webp_claiming(14_000, 14_000),
        match="truncated or forged",
    ),
    _bad("bmp_tiny_14000x14000.bmp", lambda: bmp_claiming(14_000, 14_000), match="truncated"),
    # --- file size: larger than any photo of the pixel limit, refused unread; trailing junk not read
    Case(
        "huge_3GB.jpg",
        huge_file(3 << 30),
        "error",
        error="InputError",
        match="far larger than any photo",
    ),
    Case("trailing_zeros.jpg", trailing_zeros(_good_jpeg(), 2 << 30), "ok", shape=(48, 64)),
    # --- decode work: scans of a progressive JPEG
    _bad("progressive_20000_scans.jpg", lambda: jpeg_with_scans(20_000), match="scans"),
    _bad("png_1000000_empty_chunks.png", lambda: png_with_chunks(1_000_000), match="chunks"),
    _ok("png_20000_chunks.png", lambda: png_with_chunks(20_000)),
    _bad(
        "jpeg_1000000_comments.jpg", lambda: jpeg_with_segments(1_000_000), match="marker segments"
    ),
    _ok("jpeg_4000_comments.jpg", lambda: jpeg_with_segments(4_000)),
    _ok(
        "progressive_256_scans.jpg", lambda: jpeg_with_scans(256, size=64), shape=(64, 64)
    ),  # the most allowed
    _bad(
        "progressive_257_scans.jpg",
        lambda: jpeg_with_scans(257, size=64),
        match="more than 256 scans",
    ),
    _bad(
        "vector.svg",
        b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>",
        match="SVG",
    ),
    _bad(
        "layers.psd",
        b"8BPS\x00\x01" + b"\x00" * 6 + struct.pack(">HIIHH", 3, 48, 64, 8, 3),
        match="PSD",
    ),
    _bad(
        "phone.heic",
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64,
        match="HEIC",
    ),
    _bad(
        "document.pdf",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
        match="PDF",
    ),
    _bad(
        "postscript.eps",
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",
        match="PostScript",
    ),
    Case("a folder.jpg", _directory, "error", error="InputError", match="folder", batchable=False),
    Case(
        "missing.jpg",
        lambda folder: folder / "missing.jpg",
        "error",
        error="InputError",
        match="no such file",
    ),
    Case("symlink_loop.jpg", _symlink_loop, "error", error="InputError"),
    Case("dangling_link.jpg", _dangling, "error", error="InputError", match="no such file"),
    Case("pipe.jpg", _fifo, "error", error="InputError", match="not a regular file"),
    # --- outputs that cannot or must not be written
    Case(
        "out_readonly_folder",
        _output_case("ro.jpg", _readonly_out),
        "ok" if IS_ROOT else "error",
        shape=(48, 64),
        error="OutputError",
        mentions="output",
        batchable=False,
    ),
    Case(
        "out_missing_folder",
        _output_case("mf.jpg", _out_missing_folder),
        "error",
        error="OutputError",
        match="does not exist",
        mentions="output",
        batchable=False,
    ),
    Case(
        "out_is_folder",
        _output_case("of.jpg", _out_is_folder),
        "error",
        error="OutputError",
        match="folder",
        mentions="output",
        batchable=False,
    ),
    Case(
        "out_exists",
        _output_case("oe.jpg", _out_exists),
        "error",
        error="OutputError",
        match="already exists",
        mentions="output",
        batchable=False,
    ),
    Case(
        "out_is_input",
        _output_case("oi.jpg", _out_is_input),
        "error",
        error="OutputError",
        match="overwrite the input",
        mentions="output",
        batchable=False,
    ),
    Case(
        "out_is_input_hardlink",
        _output_case("oh.jpg", _out_is_input_hardlink),
        "error",
        error="OutputError",
        match="overwrite the input",
        mentions="output",
        batchable=False,
    ),
    Case(
        "out_name_241_bytes",
        _output_case("o241.jpg", _out_long_name(241)),
        "ok",
        shape=(48, 64),
        batchable=False,
    ),
    Case(
        "out_name_255_bytes",
        _output_case("o255.jpg", _out_long_name(255)),
        "ok",
        shape=(48, 64),
        batchable=False,
    ),
    Case(
        "out_name_255_bytes_utf8",
        _output_case("o255u.jpg", _out_long_name(255, "é")),
        "ok",
        shape=(48, 64),
        batchable=False,
    ),
    Case(
        "out_wrong_suffix",
        _output_case("ow.jpg", _out_wrong_suffix),
        "error",
        error="OutputError",
        match="PNG",
        mentions="output",
        batchable=False,
    ),
    # --- the pixel limit, from the argument and from the environment
    Case(
        "max_pixels_arg",
        _output_case("mp.jpg", _max_pixels_arg),
        "error",
        error="ImageTooLargeError",
        match="more than the limit of 1,000",
        batchable=False,
    ),
    Case(
        "max_pixels_env",
        _output_case("me.jpg", _max_pixels_env),
        "error",
        error="ImageTooLargeError",
        match="more than the limit of 1,000",
        batchable=False,
    ),
    Case(
        "max_pixels_env_bogus",
        _output_case("mb.jpg", _max_pixels_env_bogus),
        "error",
        error="InputError",
        match="SKYSEG_MAX_PIXELS",
        mentions="env",
        batchable=False,
    ),
    Case(
        "max_pixels_exactly_enough",
        _output_case("mx.jpg", _max_pixels_generous),
        "ok",
        shape=(48, 64),
        batchable=False,
    ),
]

if (ROOT_DIR / "assets" / "models" / "classifier.onnx").is_file():
    CASES += [
        Case(
            f"model_{damage}",
            _model_case(damage),
            "error",
            error="ModelFileError",
            match=match,
            mentions="model",
            batchable=False,
        )
        for damage, match in (
            ("missing", "not found"),
            ("truncated", "SHA-256"),
            ("tampered", "SHA-256"),
            ("no_checksum", "no recorded SHA-256"),
            ("user_file_corrupt", "cannot load"),
        )
    ]
    if (ROOT_DIR / "assets" / "models" / "sky_unet.onnx").is_file():
        CASES += [
            Case(
                f"auto_{situation}",
                _auto_case(situation),
                "error",
                error="ModelFileError",
                match=match,
                mentions="model",
                batchable=False,
            )
            for situation, match in (
                ("models_dir_empty", "is empty"),
                ("models_dir_missing", "does not exist"),
                ("bundled_truncated", "SHA-256"),
                ("env_truncated", "SHA-256"),
                ("env_missing", "not found"),
            )
        ]
        CASES.append(
            Case(
                "auto_only_classifier",
                _auto_case("only_classifier"),
                "ok",
                shape=(48, 64),
                batchable=False,
            )
        )
    if (ROOT_DIR / "assets" / "models" / "sky_deeplab.onnx").is_file():
        CASES.append(
            Case(
                "auto_default_truncated",
                _auto_case("default_truncated"),
                "error",
                error="ModelFileError",
                match="SHA-256",
                mentions="model",
                batchable=False,
            )
        )

BATCHABLE = [case for case in CASES if case.batchable]
"""Cases that need no option: mix them into one batch."""

assert len({case.name for case in CASES}) == len(CASES), "corpus case names must be unique"
assert len({Path(case.name).stem for case in BATCHABLE}) == len(BATCHABLE), (
    "batch outputs are named by stem"
)


# --------------------------------------------------------------------------- output plan collisions


@dataclass(frozen=True)
class PlanCase:
    """A run whose outputs collide with its inputs, side inputs or each other (class: output plan).

    ``make(folder)`` lays the files out and returns the command (``argv`` for the CLI, run in
    ``folder``), the inputs that must be refused (one stderr line each, nothing written for
    them) and the outputs the rest of the run writes. Every file there before stays
    byte-identical.
    """

    name: str
    make: Callable[[Path], dict]


def _plan_folder(folder: Path, files: dict[str, Callable[[], bytes]]) -> None:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data())


def _plan_same_stem_one_folder(folder: Path) -> dict:
    _plan_folder(folder, {"d/a.jpg": _good_jpeg, "d/a.png": _good_png, "d/b.jpg": _good_jpeg})
    return {
        "argv": ["mask", "d", "--overwrite"],
        "refused": ["d/a.jpg", "d/a.png"],
        "written": ["d/b_sky.png"],
    }


def _plan_same_stem_two_folders(folder: Path) -> dict:
    _plan_folder(folder, {"d/a.jpg": _good_jpeg, "e/a.jpg": _good_jpeg, "e/c.jpg": _good_jpeg})
    return {
        "argv": ["mask", "d/a.jpg", "e", "--out-dir", "out", "--overwrite"],
        "refused": ["d/a.jpg", "e/a.jpg"],
        "written": ["out/c.png"],
    }


def _plan_one_output_for_a_folder(folder: Path) -> dict:
    _plan_folder(folder, {"d/a.jpg": _good_jpeg, "d/b.jpg": _good_jpeg})
    return {
        "argv": ["mask", "d", "-o", "one.png", "--overwrite"],
        "refused": ["d/a.jpg", "d/b.jpg"],
        "written": [],
    }


def _plan_out_dir_link_to_inputs(folder: Path) -> dict:
    _plan_folder(folder, {"d/x.jpg": _good_jpeg, "d/y.png": _good_png, "e/y.jpg": _good_jpeg})
    (folder / "link").symlink_to(folder / "d")
    return {
        "argv": ["mask", "d/x.jpg", "d/y.png", "e/y.jpg", "--out-dir", "link", "--overwrite"],
        "refused": ["d/y.png", "e/y.jpg"],
        "written": ["d/x.png"],
    }


def _plan_output_hard_link_to_other_input(folder: Path) -> dict:
    _plan_folder(folder, {"d/a.jpg": _good_jpeg, "d/b.png": _good_png})
    (folder / "out").mkdir()
    os.link(folder / "d/b.png", folder / "out/a.png")
    return {
        "argv": ["mask", "d/a.jpg", "d/b.png", "--out-dir", "out", "--overwrite"],
        "refused": ["d/a.jpg"],
        "written": ["out/b.png"],
    }


def _plan_matte_out_is_matte_in(folder: Path) -> dict:
    _plan_folder(
        folder,
        {"a.jpg": _good_jpeg, "m.png": lambda: _pil_bytes(_from_array(photo()[..., 0]), "PNG")},
    )
    return {
        "argv": ["tint", "a.jpg", "--matte", "m.png", "--matte-out", "m.png", "--overwrite"],
        "refused": ["a.jpg"],
        "written": [],
    }


def _plan_matte_folders_are_one(folder: Path) -> dict:
    grey = lambda: _pil_bytes(_from_array(photo()[..., 0]), "PNG")  # noqa: E731
    _plan_folder(
        folder, {"d/a.jpg": _good_jpeg, "d/b.jpg": _good_jpeg, "m/a.png": grey, "m/b.png": grey}
    )
    return {
        "argv": [
            "tint",
            "d",
            "--matte",
            "m/",
            "--matte-out",
            "m/",
            "--out-dir",
            "out",
            "--overwrite",
        ],
        "refused": ["d/a.jpg", "d/b.jpg"],
        "written": [],
    }


def _plan_output_is_sky(folder: Path) -> dict:
    _plan_folder(folder, {"a.jpg": _good_jpeg, "sky.jpg": _good_jpeg})
    return {
        "argv": ["replace", "a.jpg", "--sky", "sky.jpg", "-o", "sky.jpg", "--overwrite"],
        "refused": ["a.jpg"],
        "written": [],
    }


def _plan_matte_out_is_output(folder: Path) -> dict:
    _plan_folder(folder, {"a.jpg": _good_jpeg})
    return {
        "argv": ["tint", "a.jpg", "-o", "r.png", "--matte-out", "r.png", "--overwrite"],
        "refused": ["a.jpg"],
        "written": [],
    }


def _plan_layers_is_other_input(folder: Path) -> dict:
    _plan_folder(folder, {"d/a.jpg": _good_jpeg, "d/b.jpg": _good_jpeg})
    (folder / "d/a.ora").write_bytes(b"PK\x03\x04 an earlier layered file that is also an input")
    return {
        "argv": [
            "tint",
            "d/a.jpg",
            "d/b.jpg",
            "d/a.ora",
            "--layers",
            "d/",
            "--out-dir",
            "out",
            "--overwrite",
        ],
        "refused": ["d/a.jpg", "d/a.ora"],
        "written": ["out/b_tinted.jpg", "d/b.ora"],
    }


def _plan_same_input_twice(folder: Path) -> dict:
    _plan_folder(folder, {"a.jpg": _good_jpeg, "b.jpg": _good_jpeg})
    return {
        "argv": ["mask", "a.jpg", "b.jpg", "./a.jpg", "--overwrite"],
        "refused": ["a.jpg", "a.jpg"],
        "written": ["b_sky.png"],
    }


PLAN_CASES: list[PlanCase] = [
    PlanCase("same_input_twice", _plan_same_input_twice),
    PlanCase("same_stem_one_folder", _plan_same_stem_one_folder),
    PlanCase("same_stem_two_folders_one_out_dir", _plan_same_stem_two_folders),
    PlanCase("one_output_for_a_folder", _plan_one_output_for_a_folder),
    PlanCase("out_dir_is_a_link_to_the_inputs", _plan_out_dir_link_to_inputs),
    PlanCase("output_hard_link_to_another_input", _plan_output_hard_link_to_other_input),
    PlanCase("matte_out_is_the_matte_in", _plan_matte_out_is_matte_in),
    PlanCase("matte_folders_are_one", _plan_matte_folders_are_one),
    PlanCase("output_is_the_sky", _plan_output_is_sky),
    PlanCase("matte_out_is_the_output", _plan_matte_out_is_output),
    PlanCase("layers_are_another_input", _plan_layers_is_other_input),
]
"""Batches the output planner must refuse in part (``tests/test_hardening_cli.py``)."""


# --------------------------------------------------------------------------- worker request shapes


def _request_cases() -> list[tuple[str, Callable[[], str]]]:
    """Request lines that must get an ``InputError`` reply (short, one line) and leave the
    worker serving (class: worker request shapes: nesting, sizes, types, text)."""
    big = 5_000_000
    return [
        (
            "nested_lists_100000",
            lambda: '{"op": "ping", "params": ' + "[" * 100_000 + "]" * 100_000 + "}",
        ),
        (
            "nested_objects_in_id_5000",
            lambda: '{"id": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + ', "op": "ping"}',
        ),
        (
            "nested_params_value_900",
            lambda: (
                '{"op": "tint", "input": "a.png", "output": "b.png", "params": '
                '{"angle": ' + "[" * 900 + "]" * 900 + "}}"
            ),
        ),
        ("op_as_list", lambda: '{"op": ["mask"]}'),
        ("op_as_object", lambda: '{"op": {"mask": true}}'),
        ("op_huge", lambda: '{"op": "' + "x" * big + '"}'),
        (
            "params_as_list",
            lambda: '{"op": "mask", "input": "a.png", "output": "b.png", "params": [1, 2]}',
        ),
        (
            "param_value_huge",
            lambda: (
                '{"op": "mask", "input": "a.png", "output": "b.png", "params": {"method": "'
                + "m" * big
                + '"}}'
            ),
        ),
        (
            "param_name_huge",
            lambda: (
                '{"op": "mask", "input": "a.png", "output": "b.png", "params": {"'
                + "k" * big
                + '": 1}}'
            ),
        ),
        ("field_name_huge", lambda: '{"op": "ping", "' + "f" * big + '": 1}'),
        (
            "input_lone_surrogate",
            lambda: '{"op": "mask", "input": "\\ud800.png", "output": "b.png"}',
        ),
        (
            "output_lone_surrogate",
            lambda: '{"op": "mask", "input": "a.png", "output": "b\\udfff.png"}',
        ),
        (
            "matte_lone_surrogate",
            lambda: (
                '{"op": "tint", "input": "a.png", "output": "b.png", '
                '"params": {"matte": "\\ud83d.png"}}'
            ),
        ),
        ("input_nul", lambda: '{"op": "mask", "input": "a\\u0000.png", "output": "b.png"}'),
        (
            "input_path_huge",
            lambda: '{"op": "mask", "input": "' + "p/" * big + '", "output": "b.png"}',
        ),
        (
            "number_huge_integer",
            lambda: (
                '{"op": "tint", "input": "a.png", "output": "b.png", "params": {"angle": '
                + "9" * 400
                + "}}"
            ),
        ),
        (
            "number_overflowing_float",
            lambda: (
                '{"op": "tint", "input": "a.png", "output": "b.png", "params": {"angle": 1e400}}'
            ),
        ),
        (
            "overwrite_as_text",
            lambda: '{"op": "mask", "input": "a.png", "output": "b.png", "overwrite": "yes"}',
        ),
        ("id_huge_and_bad_op", lambda: '{"id": "' + "i" * big + '", "op": 7}'),
        ("not_json_huge", lambda: "{" + "x" * big),
    ]


REQUEST_CASES = _request_cases()
"""Hostile request lines for the worker (``tests/test_hardening_worker.py``)."""
