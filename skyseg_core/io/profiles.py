""":func:`to_profile` and :func:`to_srgb` move pixels between sRGB and a photo's ICC profile
(a replacement sky, a preset colour, into the photo's space), exactly for matrix/TRC profiles
(Adobe RGB, Display P3, ProPhoto, camera RGB) and through Pillow's ImageCms otherwise;
:func:`profile_problem` says why a profile cannot be used.
"""

from __future__ import annotations

import functools
import io as _io
import math
import struct

import numpy as np

from ..depth import to_codes, to_float

MAX_PROFILE_BYTES = 16 << 20
"""Largest ICC profile skyseg reads from a photo (16 MiB). Real profiles, LUT-based printer
profiles included, take up to a few MB; a JPEG holds at most 255 segments of 65,519 bytes
(16,707,345 bytes), so a larger one is left out of JPEG outputs."""


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
                self.table = to_float(np.frombuffer(tag, ">u2", n, 12), np.float64)
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
    return to_float(rgb, np.float64), rgb.dtype


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
            out[start : start + _CHUNK, i] = to_codes(curve.inverse(mapped[i]), rgb.dtype)
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
    codes = to_codes(values, np.uint8).reshape(-1, 1, 3)
    transform = ImageCms.buildTransform(
        ImageCms.ImageCmsProfile(_io.BytesIO(source_icc)),
        ImageCms.ImageCmsProfile(_io.BytesIO(target_icc)),
        "RGB",
        "RGB",
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
    )
    out = np.asarray(ImageCms.applyTransform(Image.fromarray(codes, "RGB"), transform))
    return to_codes(to_float(out.reshape(values.shape), np.float64), dtype)


def to_profile(rgb: np.ndarray, icc: bytes) -> np.ndarray:
    """Bring sRGB pixels (a replacement sky, a preset colour) into the colour space of ``icc``.

    Same shape and dtype back; ``b""`` (a photo without a profile, taken as sRGB) returns a
    copy. See :func:`convert_profile`.
    """
    return convert_profile(rgb, b"", icc)


def to_srgb(rgb: np.ndarray, icc: bytes) -> np.ndarray:
    """Convert pixels in the colour space of ``icc`` to sRGB (the inverse of :func:`to_profile`)."""
    return convert_profile(rgb, icc, b"")
