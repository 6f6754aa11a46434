"""Sky effects: replacement, gradient tint and relighting, with layered (OpenRaster) output.

Every effect takes the photo (H, W, 3: uint8, uint16 or float in [0, 1]) and its sky matte
(float32 (H, W) in [0, 1], 1 = sky) and returns an image of the same dtype and shape: 16-bit
stays 16-bit. The matte is the alpha of the new sky or tint; mixing happens in linear light
(sRGB decoded, blended, encoded again), so bright skies meet dark edges without a dark fringe.
Pixels the effect does not touch (matte 0 and no foreground adjustment) come back bit-identical.

Distances (``shift_edge``, ``fade_edge``) are in percent of the image's longer side, so a
preview at reduced size and the full-size export look the same.

The ``*_layers`` functions return the same result as a list of :class:`skyseg_core.ora.Layer`
(original photo, adjustments, new sky with the matte as alpha, hidden matte) for
:func:`skyseg_core.ora.write_ora`.
"""

from __future__ import annotations

import numpy as np

from ..io import matte_to_uint8
from ..ora import Layer
from ._color import kelvin_to_rgb
from ._relight import relight_engine
from ._replace import Replacement, estimate_sky_blur, replace
from ._tint import BLEND_MODES, ORA_COMPOSITE_OPS, blend, parse_stops, tint

__all__ = [
    "BLEND_MODES",
    "Replacement",
    "blend",
    "estimate_sky_blur",
    "kelvin_to_rgb",
    "parse_stops",
    "relight",
    "relight_layers",
    "replace_sky",
    "replace_sky_layers",
    "tint_sky",
    "tint_sky_layers",
]


def replace_sky(image: np.ndarray, matte: np.ndarray, sky: np.ndarray, *, shift_edge: float = 0.0,
                fade_edge: float = 0.0, color_match: float = 0.0, halo: float = 0.0, defocus: float = 0.0,
                flip: bool = False, position: tuple[float, float] = (0.5, 0.5), scale: float = 1.0) -> np.ndarray:
    """Replace the sky of a photo.

    The new sky is scaled to cover the photo's sky region (never stretched: aspect kept), and
    placed so its bottom edge, its horizon, lies on the photo's sky border; it is then blended
    in linear light with the (adjusted) matte as alpha. Edge pixels are cleaned first: where the
    given matte is soft, pixels whose colour matches the old sky around them count as sky, and
    the old sky's share is taken out of the rest (decontamination), so a bright old sky leaves
    no light rim around the foreground.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), uint8, uint16 or float in [0, 1]
        The photo.
    matte : ndarray, shape (H, W), float32 in [0, 1]
        Its sky matte, 1 = sky.
    sky : ndarray, shape (h, w, 3), uint8, uint16 or float
        The new sky; its bottom edge is taken as its horizon (see :mod:`skyseg_core.skygen`).
    shift_edge : float, -20..20
        Grow (> 0) or shrink (< 0) the sky, in percent of the longer side.
    fade_edge : float, 0..20
        Feather the matte edge: Gaussian sigma in percent of the longer side.
    color_match : float, 0..1
        Harmonise the foreground's white balance and exposure toward the new sky's light
        (0 off, 1 full): the chromaticity ratio of new to old sky, and the square root of their
        luminance ratio.
    halo : float, 0..1
        Edge light: the new sky's light spilling over the foreground just below the border.
    defocus : float, 0..4
        Blur the new sky to the original sky's estimated blur (1 = match it, 0 = sharp;
        see :func:`estimate_sky_blur`). Nothing happens when the original sky has no edges
        to measure.
    flip : bool
        Mirror the new sky left-right.
    position : (x, y), each 0..1
        x pans across the new sky's extra width (0 left, 1 right); y = 0.5 puts its horizon on
        the sky border, larger lowers it and smaller raises it (by up to half the sky height).
    scale : float, 0.1..20
        Extra zoom of the new sky (1 = just covers the sky region).

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``. Where the matte is 0 and ``color_match`` and
        ``halo`` are 0, the photo's pixels are returned unchanged.

    Raises
    ------
    InputError
        A parameter out of range or a malformed image. :class:`MatteError` for a bad matte.
    """
    return replace(image, matte, sky, shift_edge=shift_edge, fade_edge=fade_edge, color_match=color_match,
                   halo=halo, defocus=defocus, flip=flip, position=position, scale=scale).image


def _matte_layers(image: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, Layer]:
    """The matte as alpha in the photo's bit depth, and as its own hidden grey layer."""
    if image.dtype == np.uint16:
        a = np.round(alpha * 65535.0).astype(np.uint16)
    else:
        a = matte_to_uint8(alpha)
    return a, Layer("sky matte", np.repeat(a[..., None], 3, axis=2), visible=False)


def _layer_codes(image: np.ndarray) -> np.ndarray:
    from ._color import convert_codes

    return image if image.dtype in (np.uint8, np.uint16) else convert_codes(image, np.uint16)


def replace_sky_layers(image: np.ndarray, matte: np.ndarray, sky: np.ndarray, **params) -> tuple[np.ndarray, list[Layer]]:
    """:func:`replace_sky`, also as layers (bottom to top) for an .ora file.

    Layers: the original photo; ``colour match`` (the adjusted foreground) and ``edge light``
    (a screen layer) when those controls are on; ``new sky`` (RGBA, the matte in alpha); the
    matte itself, hidden. Returns ``(result, layers)``.
    """
    rep = replace(image, matte, sky, full_sky=True, **params)
    base = _layer_codes(image)
    layers = [Layer("original photo", base)]
    fg = image
    if rep.foreground is not None:
        fg = rep.foreground
        layers.append(Layer("colour match", _layer_codes(fg)))
    if rep.lit_foreground is not None:
        f = fg.astype(np.float32) / np.float32(_code_max(fg))
        r = rep.lit_foreground.astype(np.float32) / np.float32(_code_max(fg))
        screen = 1.0 - (1.0 - r) / np.maximum(1.0 - f, 1e-6)  # what a screen layer must hold
        screen[(1.0 - f) <= 1e-6] = 0.0
        codes = _float_to_codes(np.clip(screen, 0, 1), base.dtype)
        layers.append(Layer("edge light", codes, composite_op="svg:screen"))
    a, matte_layer = _matte_layers(base, rep.alpha)
    sky_codes = _layer_codes(rep.sky)
    layers.append(Layer("new sky", np.concatenate([sky_codes, a[..., None]], axis=2)))
    layers.append(matte_layer)
    return rep.image, layers


def _code_max(a: np.ndarray) -> float:
    return 65535.0 if a.dtype == np.uint16 else 255.0 if a.dtype == np.uint8 else 1.0


def _float_to_codes(values: np.ndarray, dtype) -> np.ndarray:
    top = 65535.0 if dtype == np.uint16 else 255.0
    return np.round(values * top).astype(dtype)


def tint_sky(image: np.ndarray, matte: np.ndarray, stops=((0.0, (1.0, 0.62, 0.35)), (1.0, (0.25, 0.35, 0.65))),
             angle: float = 90.0, mode: str = "soft_light", strength: float = 1.0) -> np.ndarray:
    """Tint the sky with a colour gradient.

    Parameters
    ----------
    image, matte
        As for :func:`replace_sky`.
    stops : sequence of (position, colour)
        Two or more stops; position in [0, 1], colour as (r, g, b) floats 0..1, integers
        0..255 or ``"#rrggbb"`` (sRGB values).
    angle : float
        Direction in degrees, counter-clockwise from "to the right"; 90 runs from the bottom of
        the sky (position 0) to its top (position 1). The gradient spans the sky's bounding box.
    mode : str
        One of :data:`BLEND_MODES` (W3C formulas on sRGB values, as in Photoshop, GIMP, Krita).
    strength : float, 0..1
        Opacity of the tint; the matte scales it per pixel (mixed in linear light).

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``; pixels where the matte is 0 are unchanged.
    """
    return tint(image, matte, stops, angle, mode, strength)[0]


def tint_sky_layers(image: np.ndarray, matte: np.ndarray, stops=((0.0, (1.0, 0.62, 0.35)), (1.0, (0.25, 0.35, 0.65))),
                    angle: float = 90.0, mode: str = "soft_light", strength: float = 1.0) -> tuple[np.ndarray, list[Layer]]:
    """:func:`tint_sky`, also as layers: the photo, the gradient (blend mode as its composite
    op, matte x strength as alpha) and the hidden matte. Returns ``(result, layers)``."""
    result, gradient = tint(image, matte, stops, angle, mode, strength, with_layer=True)
    base = _layer_codes(image)
    a, matte_layer = _matte_layers(base, matte)
    grad = _float_to_codes(gradient, base.dtype)
    layers = [Layer("original photo", base),
              Layer(f"sky tint ({mode})", np.concatenate([grad, a[..., None]], axis=2),
                    opacity=float(strength), composite_op=ORA_COMPOSITE_OPS[mode]),
              matte_layer]
    return result, layers


def relight(image: np.ndarray, matte: np.ndarray, target, strength: float = 1.0) -> np.ndarray:
    """Relight the foreground to match the light of a target sky.

    The foreground's white balance moves by the chromaticity ratio of the target's light to the
    photo's own sky (or, without sky, the foreground's average); for a target sky image its
    exposure moves by the square root of the luminance ratio and its contrast with the
    difference in sky saturation (saturated sunset light: more contrast; grey overcast: less).
    The change is strongest at the sky border and falls off below it like depth
    (``exp(-d / 0.35 H)``, never below 25 %).

    Parameters
    ----------
    image, matte
        As for :func:`replace_sky`.
    target : ndarray or float
        A sky image (RGB array) or a colour temperature in kelvin (1000..40000).
    strength : float, 0..1
        0 leaves the photo unchanged.

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``; sky pixels (matte 1) are unchanged.
    """
    return relight_engine(image, matte, target, strength)[0]


def relight_layers(image: np.ndarray, matte: np.ndarray, target, strength: float = 1.0) -> tuple[np.ndarray, list[Layer]]:
    """:func:`relight`, also as layers: the photo, the relit foreground with the falloff weight
    as alpha, and the hidden matte. Returns ``(result, layers)``."""
    result, adjusted, weight, _ = relight_engine(image, matte, target, strength, want_weight=True)
    base = _layer_codes(image)
    w = _float_to_codes(np.clip(weight, 0, 1), base.dtype)
    _, matte_layer = _matte_layers(base, matte)
    layers = [Layer("original photo", base),
              Layer("relight", np.concatenate([_layer_codes(adjusted), w[..., None]], axis=2)),
              matte_layer]
    return result, layers
