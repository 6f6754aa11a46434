"""Relighting: bring the foreground's exposure, white balance and contrast to a target sky's light."""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import InputError
from ..matte import check_image, check_matte
from . import _color as C
from . import _geometry as G
from ._common import STATS_SIZE, check_unit, steady_light
from ._common import mean_colour as _mean_colour
from ._transfer import light_in_signal

FALLOFF_LENGTH = 0.35
"""Distance below the sky border (fraction of the image height) over which relighting falls by 1/e."""

FALLOFF_FLOOR = 0.25
"""Share of the relighting that still reaches the bottom of the frame."""

CHUNK_ROWS = 32


def light_of_target(target) -> dict:
    """Colour (linear RGB), luminance and saturation of the light a target stands for.

    ``target`` is a sky image (RGB array) or a colour temperature in kelvin (a number).
    """
    if isinstance(target, np.ndarray):
        check_image(target)
        small = G.resize_to(target, *G.small_size(target.shape[:2], 256))
        mean = C.to_linear(small).reshape(-1, 3).mean(axis=0).astype(np.float64)
        return {
            "colour": mean,
            "luminance": float(C.luminance(mean.astype(np.float32))),
            "saturation": _saturation(mean),
        }
    try:
        kelvin = float(target)
    except (TypeError, ValueError):
        raise InputError(
            f"relight target must be a sky image or a colour temperature in K, got {target!r}"
        ) from None
    kelvin = check_unit("target colour temperature (K)", kelvin, 1000.0, 40000.0)
    return {
        "colour": light_in_signal(C.kelvin_to_rgb(kelvin)).astype(np.float64),
        "luminance": None,
        "saturation": None,
    }


def _saturation(rgb: np.ndarray) -> float:
    rgb = np.maximum(rgb, 1e-6)
    return float((rgb.max() - rgb.min()) / rgb.max())


def falloff(
    matte: np.ndarray, length: float = FALLOFF_LENGTH, floor: float = FALLOFF_FLOOR
) -> np.ndarray:
    """Depth-like weight in [floor, 1] (small size): 1 at and above the sky border, less below.

    Per column, the border is the lowest sky row (columns without sky take the photo's border);
    the weight decays as ``exp(-d / (length * H))`` with the distance d below it.
    """
    h, w = matte.shape
    sky = matte >= 0.5
    border = G.sky_border(matte, h)
    rows = np.arange(h, dtype=np.float32)[:, None]
    lowest = np.where(sky, rows, -1).max(axis=0).astype(np.float32) + 1.0
    lowest[lowest <= 0] = border.horizon if border.has_sky else 0.0
    lowest = cv2.GaussianBlur(
        lowest[None, :], (0, 0), max(1.0, w / 50.0), borderType=cv2.BORDER_REFLECT
    )[0]
    d = np.maximum(rows - lowest[None, :], 0.0) / np.float32(h)
    return (floor + (1.0 - floor) * np.exp(-d / np.float32(length))).astype(np.float32)


def relight_engine(image, matte, target, strength=1.0, want_weight=False):
    """Engine of :func:`skyseg_core.effects.relight`: (result, fully adjusted foreground,
    weight, info); the adjusted foreground and the weight only with ``want_weight`` (the
    adjusted foreground also for float images)."""
    check_image(image)
    check_matte(matte, image.shape[:2])
    strength = check_unit("strength", strength)
    if image.shape[1] == 1:  # OpenCV reads (H, 1, 3) arrays as scalars: run on two columns
        out, adjusted, weight, info = relight_engine(
            np.repeat(image, 2, axis=1), np.repeat(matte, 2, axis=1), target, strength, want_weight
        )
        one = (
            np.ascontiguousarray(a[:, :1]) if a is not None else None
            for a in (out, adjusted, weight)
        )
        return (*one, info)
    H, W = image.shape[:2]
    small, k = G.shrink(image, STATS_SIZE)
    small_lin = C.to_linear(small)
    m_small = G.shrink(matte, STATS_SIZE)[0]
    old_sky, old_frac = _mean_colour(small_lin, m_small)
    fg_mean, _ = _mean_colour(small_lin, 1.0 - m_small)
    has_sky = old_frac >= 0.005
    reference = old_sky if has_sky else fg_mean
    light = light_of_target(target)
    gains = np.clip(C.chromaticity(light["colour"]) / C.chromaticity(reference), 0.4, 2.5)
    gains = gains / float(C.luminance(gains.astype(np.float32)))
    exposure, contrast = 1.0, 1.0
    if light["luminance"] is not None and has_sky:
        y_ref = float(C.luminance(old_sky.astype(np.float32)))
        exposure = float(
            np.clip((max(light["luminance"], 1e-4) / max(y_ref, 1e-4)) ** 0.5, 0.35, 2.0)
        )
        contrast = float(
            np.clip(1.0 + 0.3 * (light["saturation"] - _saturation(old_sky)), 0.8, 1.25)
        )
    gains = gains**strength
    exposure = exposure**strength
    contrast = contrast**strength
    light = steady_light("relight", {"gains": gains, "exposure": exposure, "contrast": contrast})
    gains, exposure, contrast = light["gains"], light["exposure"], light["contrast"]
    adjust = C.channel_curves(image.dtype, C.grade_curve(gains, exposure, contrast))
    # integer codes are adjusted a block of rows at a time (a look-up); the whole adjusted
    # photo is made for the layers, and for float images, whose curve runs per pixel
    adjusted = adjust(image) if want_weight or image.dtype.kind == "f" else None

    weight_small = falloff(m_small) * np.float32(strength)
    dtype = image.dtype
    out = image.copy()
    weight = np.empty((H, W), np.float32) if want_weight else None
    for c0 in range(0, H, CHUNK_ROWS):
        c1 = min(H, c0 + CHUNK_ROWS)
        w = G.upsample_block(weight_small, k, (H, W), c0, c1)
        w *= np.float32(1.0) - matte[c0:c1]  # the sky is not relit
        if weight is not None:
            weight[c0:c1] = w
        lin_a = C.to_linear(image[c0:c1])
        lin_b = C.to_linear(adjust(image[c0:c1]) if adjusted is None else adjusted[c0:c1])
        mixed = cv2.blendLinear(lin_a, lin_b, np.float32(1.0) - w, w)
        out[c0:c1] = C.from_linear(mixed, dtype, clip=dtype.kind == "f")
    if dtype.kind == "f":  # float codes do not survive decode/encode bit-exactly: restore them
        np.copyto(out, image, where=(matte >= 1)[..., None])
    info = {
        "gains": [round(float(g), 4) for g in gains],
        "exposure": round(exposure, 4),
        "contrast": round(contrast, 4),
    }
    return out, adjusted, weight, info
