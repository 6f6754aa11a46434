"""Blend modes, declared once: each mode's name, formula, OpenRaster composite op and PSD mode.

The tint's ``mode`` choices, the layered files' composite ops (OpenRaster ``composite-op``,
Photoshop blend mode) and the compositing of ``mergedimage.png`` all read :data:`BLENDS`.
The formulas are the W3C Compositing and Blending ones on sRGB values, as in Photoshop, GIMP
and Krita. Modes without a formula here are only carried through layered files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import InputError


def _lum(c: np.ndarray) -> np.ndarray:
    return c[..., 0:1] * 0.3 + c[..., 1:2] * 0.59 + c[..., 2:3] * 0.11


def _set_lum(c: np.ndarray, lum: np.ndarray) -> np.ndarray:
    c = c + (lum - _lum(c))
    lo, hi = c.min(axis=-1, keepdims=True), c.max(axis=-1, keepdims=True)
    mid = _lum(c)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(lo < 0, mid + (c - mid) * mid / np.maximum(mid - lo, 1e-6), c)
        c = np.where(hi > 1, mid + (c - mid) * (1 - mid) / np.maximum(hi - mid, 1e-6), c)
    return c


def _soft_light(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = np.where(a <= 0.25, ((16 * a - 12) * a + 4) * a, np.sqrt(np.maximum(a, 0)))
    return np.where(b <= 0.5, a - (1 - 2 * b) * a * (1 - a), a + (2 * b - 1) * (d - a))


Formula = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``formula(base, layer)``: float sRGB in [0, 1], (..., 3), before clipping."""


@dataclass(frozen=True)
class BlendMode:
    """One blend mode: its name, its formula (None: only carried through layered files), its
    OpenRaster ``composite-op`` and its psd-tools ``BlendMode`` name."""

    name: str
    formula: Formula | None
    ora_op: str
    psd_mode: str


BLENDS: dict[str, BlendMode] = {
    m.name: m
    for m in (
        BlendMode(
            "normal", lambda a, b: np.broadcast_to(b, a.shape).copy(), "svg:src-over", "NORMAL"
        ),
        BlendMode("multiply", lambda a, b: a * b, "svg:multiply", "MULTIPLY"),
        BlendMode("screen", lambda a, b: a + b - a * b, "svg:screen", "SCREEN"),
        BlendMode(
            "overlay",
            lambda a, b: np.where(a <= 0.5, 2 * a * b, 1 - 2 * (1 - a) * (1 - b)),
            "svg:overlay",
            "OVERLAY",
        ),
        BlendMode("soft_light", _soft_light, "svg:soft-light", "SOFT_LIGHT"),
        BlendMode(
            "color",
            lambda a, b: _set_lum(np.broadcast_to(b, a.shape).astype(np.float32), _lum(a)),
            "svg:color",
            "COLOR",
        ),
        BlendMode("hard_light", None, "svg:hard-light", "HARD_LIGHT"),
        BlendMode("darken", None, "svg:darken", "DARKEN"),
        BlendMode("lighten", None, "svg:lighten", "LIGHTEN"),
        BlendMode("color_dodge", None, "svg:color-dodge", "COLOR_DODGE"),
        BlendMode("color_burn", None, "svg:color-burn", "COLOR_BURN"),
        BlendMode("difference", None, "svg:difference", "DIFFERENCE"),
        BlendMode("exclusion", None, "svg:exclusion", "EXCLUSION"),
        BlendMode("hue", None, "svg:hue", "HUE"),
        BlendMode("saturation", None, "svg:saturation", "SATURATION"),
        BlendMode("luminosity", None, "svg:luminosity", "LUMINOSITY"),
    )
}
"""Every blend mode skyseg knows, by name."""

HOST_MODES: dict[str, tuple[str, str]] = {
    "normal": ("NORMAL", "normal"),
    "multiply": ("MULTIPLY", "multiply"),
    "screen": ("SCREEN", "screen"),
    "overlay": ("OVERLAY", "overlay"),
    "soft_light": ("SOFTLIGHT", "soft_light_svg"),
    "color": ("HSL_COLOR", "color"),
    "hard_light": ("HARDLIGHT", "hard_light"),
    "darken": ("DARKEN_ONLY", "darken"),
    "lighten": ("LIGHTEN_ONLY", "lighten"),
    "color_dodge": ("DODGE", "dodge"),
    "color_burn": ("BURN", "burn"),
    "difference": ("DIFFERENCE", "diff"),
    "exclusion": ("EXCLUSION", "exclusion"),
    "hue": ("HSV_HUE", "hue"),
    "saturation": ("HSV_SATURATION", "saturation"),
    "luminosity": ("LUMINANCE", "luminize"),
}
"""Each mode as the host plug-ins set it on a layer: (GIMP's ``Gimp.LayerMode`` member, Krita's
composite op id); the plug-ins read them from the layer stack the worker writes."""
assert set(HOST_MODES) == set(BLENDS), "every blend mode needs its host modes"

BLEND_MODES = tuple(name for name, m in BLENDS.items() if m.formula is not None)
"""The modes skyseg can compute (the tint's choices)."""

BY_ORA_OP: dict[str, BlendMode] = {m.ora_op: m for m in BLENDS.values()}
"""OpenRaster composite op -> its mode."""


def blend(base: np.ndarray, layer: np.ndarray, mode: str) -> np.ndarray:
    """Blend ``layer`` onto ``base`` (both float sRGB in [0, 1], (..., 3)) with ``mode``.

    The separable modes follow the W3C Compositing and Blending spec; ``color`` keeps the base's
    luminosity and takes the layer's hue and saturation.
    """
    formula = BLENDS[mode].formula if mode in BLEND_MODES else None
    if formula is None:
        raise InputError(f"unknown blend mode {mode!r}; choose one of: {', '.join(BLEND_MODES)}")
    out = formula(base, layer)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


__all__ = ["BLENDS", "BLEND_MODES", "BY_ORA_OP", "BlendMode", "blend"]
