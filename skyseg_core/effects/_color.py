"""Colour plumbing shared by the effects: sRGB <-> linear light, per-channel curves, illuminants.

Images arrive as stored sRGB codes (uint8, uint16) or float32 in [0, 1]. Effects mix light, so
they decode to linear light, work there, and encode back to the input's dtype. Decoding integer
codes is a table look-up; per-channel tone changes are applied as code -> code tables, which is
exact and costs one look-up per sample at full resolution.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import cv2
import numpy as np

from ..depth import to_codes, to_float, white

LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)
"""Rec. 709 / sRGB luminance weights of linear RGB."""


def srgb_to_linear_formula(x: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 decoding of float sRGB values in [0, 1] (float32 out)."""
    x = np.clip(np.asarray(x, np.float32), 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb_formula(x: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 encoding of linear values (clipped to [0, 1]) to float sRGB (float32 out)."""
    x = np.asarray(x, dtype=np.float32)
    if x.size < 64:  # OpenCV reads tiny arrays as scalars: use numpy
        x = np.clip(x, 0.0, 1.0)
        return np.where(x <= 0.0031308, x * 12.92, 1.055 * np.power(x, 1 / 2.4) - 0.055).astype(
            np.float32
        )
    shape = x.shape
    flat = np.ascontiguousarray(x).reshape(shape[0] if x.ndim > 1 else 1, -1)
    _, flat = cv2.threshold(flat, 1.0, 1.0, cv2.THRESH_TRUNC)
    _, flat = cv2.threshold(flat, 0.0, 0.0, cv2.THRESH_TOZERO)
    out = cv2.pow(flat, 1.0 / 2.4)
    out = cv2.addWeighted(out, 1.055, out, 0.0, -0.055)
    small = cv2.compare(flat, 0.0031308, cv2.CMP_LE)
    if cv2.countNonZero(small):
        cv2.copyTo(cv2.multiply(flat, 12.92), small, out)
    return out.reshape(shape)


@functools.lru_cache(maxsize=2)
def decode_table(dtype_name: str) -> np.ndarray:
    """Linear value of every code of ``dtype`` (uint8: 256 entries, uint16: 65536)."""
    top = white(dtype_name)
    return srgb_to_linear_formula(np.arange(top + 1, dtype=np.float64) / top)


@functools.lru_cache(maxsize=1)
def encode_table_8bit() -> np.ndarray:
    """8-bit sRGB code of each 16-bit linear value i / 65535 (65536 entries)."""
    lin = to_float(np.arange(65536, dtype=np.uint16), np.float64)
    srgb = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
    return to_codes(srgb, np.uint8)


def to_linear(codes: np.ndarray) -> np.ndarray:
    """Decode sRGB codes (uint8, uint16 or float in [0, 1], any shape) to float32 linear light."""
    codes = np.asarray(codes)
    if codes.dtype == np.uint8:
        table = decode_table("uint8")
        if codes.ndim in (2, 3) and codes.size and (codes.ndim == 2 or codes.shape[2] <= 4):
            return cv2.LUT(np.ascontiguousarray(codes), table)
        return table[codes]
    if codes.dtype == np.uint16:
        return np.take(decode_table("uint16"), codes)
    return srgb_to_linear_formula(codes)


_DARK = 0.0031308
"""Below this linear value sRGB is the straight line 12.92 x."""


def from_linear(linear: np.ndarray, dtype, clip: bool = True) -> np.ndarray:
    """Encode linear light to sRGB codes of ``dtype`` (rounded to nearest).

    ``clip=False`` skips clipping to [0, 1] for callers whose values are in range by
    construction (convex blends of decoded values); it saves two passes.
    """
    dtype = np.dtype(dtype)
    x = np.asarray(linear, dtype=np.float32)
    if x.size < 64 and dtype.kind in "ui":  # OpenCV reads tiny arrays as scalars: use numpy
        return to_codes(linear_to_srgb_formula(x), dtype, rounding="half_up", clip=False)
    if dtype != np.uint8 and dtype != np.uint16:
        return linear_to_srgb_formula(linear).astype(dtype, copy=False)
    shape = x.shape
    flat = np.ascontiguousarray(x).reshape(shape[0] if x.ndim > 1 else 1, -1)
    if clip:
        _, flat = cv2.threshold(flat, 1.0, 1.0, cv2.THRESH_TRUNC)
        _, flat = cv2.threshold(flat, 0.0, 0.0, cv2.THRESH_TOZERO)
    top = white(dtype)
    if dtype == np.uint8:  # 16-bit linear index into a table: exact for 8-bit codes, no pow
        index = cv2.multiply(flat, 65535.0, dtype=cv2.CV_16U)
        return np.take(encode_table_8bit(), index).reshape(shape)
    powed = cv2.pow(flat, 1.0 / 2.4)
    if dtype == np.uint8:  # saturate(|a x + b|): the dark pixels it gets wrong are fixed below
        codes = cv2.convertScaleAbs(powed, alpha=1.055 * top, beta=-0.055 * top)
    else:
        codes = cv2.addWeighted(powed, 1.055 * top, powed, 0.0, -0.055 * top, dtype=cv2.CV_16U)
    dark = cv2.compare(flat, _DARK, cv2.CMP_LE)
    if cv2.countNonZero(dark):
        idx = np.flatnonzero(dark)
        vals = flat.reshape(-1)[idx] * np.float32(12.92 * top) + np.float32(0.5)
        codes.reshape(-1)[idx] = vals.astype(dtype)
    return codes.reshape(shape)


def apply_channel_curves(image: np.ndarray, curve) -> np.ndarray:
    """Apply a per-channel tone change given in linear light to an image of stored codes.

    ``curve(linear) -> linear`` receives an (N, 3) float32 array (one column per channel) and
    returns the new linear values. For integer images it is evaluated once per code and applied
    as a look-up table, so the full-resolution cost is one look-up per sample.
    """
    return channel_curves(image.dtype, curve)(image)


def channel_curves(dtype, curve) -> Callable[[np.ndarray], np.ndarray]:
    """:func:`apply_channel_curves` for images of ``dtype`` as a function, so that it can run on
    a block of rows at a time: for integer codes the look-up table is built once, here."""
    dtype = np.dtype(dtype)
    if dtype != np.uint8 and dtype != np.uint16:
        return lambda image: from_linear(
            curve(to_linear(image).reshape(-1, 3)).reshape(image.shape), image.dtype
        )
    n = int(white(dtype)) + 1
    lin = np.repeat(decode_table(dtype.name)[:, None], 3, axis=1)
    table = from_linear(curve(lin), dtype)  # (n, 3) codes
    if dtype == np.uint8:
        lut = np.ascontiguousarray(table.reshape(n, 1, 3))
        return lambda image: cv2.LUT(np.ascontiguousarray(image), lut)

    def look_up(image: np.ndarray) -> np.ndarray:
        out = np.empty_like(image)
        for c in range(3):
            np.take(table[:, c], image[..., c], out=out[..., c])
        return out

    return look_up


def soft_clip(x: np.ndarray, knee: float = 0.8) -> np.ndarray:
    """Identity below ``knee``, then a smooth shoulder that approaches 1 (keeps highlights)."""
    x = np.maximum(x, 0.0)
    over = x > knee
    if not np.any(over):
        return x.astype(np.float32, copy=False)
    out = x.astype(np.float32, copy=True)
    span = 1.0 - knee
    out[over] = knee + span * (1.0 - np.exp(-(x[over] - knee) / span))
    return out


def grade_curve(gains, exposure: float = 1.0, contrast: float = 1.0, pivot: float = 0.18):
    """A linear-light curve: per-channel gains and exposure, contrast about ``pivot``, soft shoulder.

    Contrast is a power about the mid-grey ``pivot`` (1 = unchanged, >1 more contrast).
    """
    gains = np.asarray(gains, np.float32).reshape(1, 3) * np.float32(exposure)

    def curve(lin: np.ndarray) -> np.ndarray:
        y = lin * gains
        if contrast != 1.0:
            y = np.float32(pivot) * np.power(
                np.maximum(y, 0.0) / np.float32(pivot), np.float32(contrast)
            )
        return soft_clip(y)

    return curve


def luminance(linear_rgb: np.ndarray) -> np.ndarray:
    """Linear luminance Y of (..., 3) linear RGB."""
    return linear_rgb @ LUMA


def chromaticity(rgb: np.ndarray) -> np.ndarray:
    """An RGB colour divided by the mean of its channels (so grey = (1, 1, 1))."""
    rgb = np.maximum(np.asarray(rgb, np.float64), 1e-6)
    return rgb / rgb.mean()


DAYLIGHT_KELVIN = 6504.0
"""Daylight (D65): the white point every colour temperature is measured from."""


def mired_shift(kelvin: float) -> float:
    """The warm (+) or cool (-) shift, in mired, that turns daylight into light of ``kelvin``:
    ``1e6 / kelvin - 1e6 / 6504`` (5500 K: +28; 3200 K: +159, a full CTO gel). The replacement's
    ``sky_temperature`` is such a shift; the editor shows relight's kelvin as one too."""
    return 1e6 / float(kelvin) - 1e6 / DAYLIGHT_KELVIN


def kelvin_to_rgb(kelvin: float) -> np.ndarray:
    """Linear sRGB colour of a blackbody at ``kelvin``, normalised so 6504 K (D65) is (1, 1, 1).

    Planckian locus chromaticity after Kang et al. 2002 (valid 1667 K - 25000 K; clamped).
    """

    def xy(t: float) -> tuple[float, float]:
        t = float(np.clip(t, 1667.0, 25000.0))
        if t <= 4000:
            x = -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910
        else:
            x = -3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390
        if t <= 2222:
            y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
        elif t <= 4000:
            y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
        else:
            y = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
        return x, y

    def rgb(t: float) -> np.ndarray:
        x, y = xy(t)
        xyz = np.array([x / y, 1.0, (1 - x - y) / y])
        m = np.array(
            [
                [3.2404542, -1.5371385, -0.4985314],
                [-0.9692660, 1.8760108, 0.0415560],
                [0.0556434, -0.2040259, 1.0572252],
            ]
        )
        return np.maximum(m @ xyz, 1e-4)

    out = rgb(kelvin) / rgb(6504.0)
    return (out / out.max()).astype(np.float32)
