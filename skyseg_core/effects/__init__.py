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

from ..errors import InputError
from ..io import matte_to_uint8
from ..matte import check_image, check_matte
from ..ora import Layer
from ._cleanup import NoSkyError, clean_matte, require_sky, sky_share
from ._color import kelvin_to_rgb
from ._relight import relight_engine
from ._replace import Replacement, estimate_sky_blur, replace
from ._tint import ORA_COMPOSITE_OPS, blend, parse_stops, tint
from .params import (
    BLEND_MODES,
    EFFECTS,
    MIN_SKY_SHARE,
    REPLACE_PRESETS,
    RelightParams,
    ReplaceParams,
    TintParams,
    replace_preset,
)

__all__ = [
    "BLEND_MODES",
    "EFFECTS",
    "MIN_SKY_SHARE",
    "NoSkyError",
    "REPLACE_PRESETS",
    "RelightParams",
    "ReplaceParams",
    "Replacement",
    "TintParams",
    "clean_matte",
    "replace_preset",
    "sky_share",
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


def _params(cls, params, changes: dict):
    """``params`` (default: the declared defaults) with ``changes`` applied, validated."""
    if params is None:
        return cls(**changes)
    if not isinstance(params, cls):
        raise InputError(f"expected {cls.__name__}, got {type(params).__name__}")
    return params.replace(**changes) if changes else params


def replace_sky(
    image: np.ndarray,
    matte: np.ndarray,
    sky: np.ndarray,
    params: ReplaceParams | None = None,
    **changes,
) -> np.ndarray:
    """Replace the sky of a photo.

    The matte is cleaned first (:func:`clean_matte`, ``params.cleanup``). The new sky, adjusted
    in brightness and temperature, is scaled to cover the photo's sky region (never stretched:
    aspect kept) and placed so its bottom edge, its horizon, lies on the photo's sky border. The
    foreground is relit toward the new sky's light (``lighting``) and its white balance and
    exposure harmonised with it (``color_match``, bounded); then the new sky is blended in
    linear light with the matte as alpha. Edge pixels are cleaned: where the matte is soft,
    pixels whose colour matches the old sky around them count as sky, and the old sky's share is
    taken out of the rest (decontamination), so a bright old sky leaves no light rim.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), uint8, uint16 or float in [0, 1]
        The photo.
    matte : ndarray, shape (H, W), float32 in [0, 1]
        Its sky matte, 1 = sky.
    sky : ndarray, shape (h, w, 3), uint8, uint16 or float
        The new sky; its bottom edge is taken as its horizon (see :mod:`skyseg_core.skygen`).
        (``params.sky`` names it for the surfaces that load it; this array is what is used.)
    params : ReplaceParams, optional
        The controls (default: the declared defaults); see :class:`ReplaceParams` for each
        one's range and unit.
    **changes
        Fields of :class:`ReplaceParams` to change, e.g. ``halo=0.5``.

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``. Pixels whose cleaned matte is 0 get no new sky: they
        are the photo's own (bit-identical when ``lighting``, ``color_match`` and ``halo`` are 0).

    Raises
    ------
    NoSkyError
        Less than :data:`MIN_SKY_SHARE` of the frame is sky after the clean-up.
    InputError
        A parameter out of range or a malformed image. :class:`MatteError` for a bad matte.
    """
    return replace(image, matte, sky, _params(ReplaceParams, params, changes)).image


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


def replace_sky_layers(
    image: np.ndarray,
    matte: np.ndarray,
    sky: np.ndarray,
    params: ReplaceParams | None = None,
    **changes,
) -> tuple[np.ndarray, list[Layer]]:
    """:func:`replace_sky`, also as layers (bottom to top) for an .ora file.

    Layers: the original photo; ``foreground light`` (the relit, colour-matched foreground)
    and ``edge light`` (a screen layer) when those controls are on; ``new sky`` (RGBA, the
    cleaned matte in alpha); that matte itself, hidden. Returns ``(result, layers)``.
    """
    rep = replace(image, matte, sky, _params(ReplaceParams, params, changes), full_sky=True)
    base = _layer_codes(image)
    layers = [Layer("original photo", base)]
    fg = image
    if rep.foreground is not None:
        fg = rep.foreground
        layers.append(Layer("foreground light", _layer_codes(fg)))
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


def tint_sky(
    image: np.ndarray, matte: np.ndarray, params: TintParams | None = None, **changes
) -> np.ndarray:
    """Tint the sky with a colour gradient.

    Parameters
    ----------
    image, matte
        As for :func:`replace_sky`; the matte is cleaned the same way (``params.cleanup``).
    params : TintParams, optional
        ``stops`` (two or more (position, colour): position 0 = the horizon .. 1 = the top of the
        sky, colour ``"#rrggbb"`` or (r, g, b) floats 0..1 / integers 0..255, sRGB), ``angle``
        (degrees counter-clockwise from "to the right"; 90 runs from the bottom of the sky to
        its top; the gradient spans the sky's bounding box), ``mode`` (one of
        :data:`BLEND_MODES`: W3C formulas on sRGB values, as in Photoshop, GIMP, Krita) and
        ``strength`` (opacity; the matte scales it per pixel, mixed in linear light).
    **changes
        Fields of :class:`TintParams` to change.

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``; pixels whose cleaned matte is 0 are unchanged.

    Raises
    ------
    NoSkyError
        Less than :data:`MIN_SKY_SHARE` of the frame is sky after the clean-up.
    """
    return _tint(image, matte, _params(TintParams, params, changes))[0]


def _tint(image, matte, p: TintParams, with_layer: bool = False):
    check_image(image)
    alpha = clean_matte(check_matte(matte, image.shape[:2]), p.cleanup)
    require_sky(alpha, "nothing tinted")
    result, gradient = tint(
        image, alpha, p.stops, p.angle, p.mode, p.strength, with_layer=with_layer
    )
    return result, gradient, alpha


def tint_sky_layers(
    image: np.ndarray, matte: np.ndarray, params: TintParams | None = None, **changes
) -> tuple[np.ndarray, list[Layer]]:
    """:func:`tint_sky`, also as layers: the photo, the gradient (blend mode as its composite
    op, cleaned matte x strength as alpha) and the hidden matte. Returns ``(result, layers)``."""
    p = _params(TintParams, params, changes)
    result, gradient, alpha = _tint(image, matte, p, with_layer=True)
    base = _layer_codes(image)
    a, matte_layer = _matte_layers(base, alpha)
    grad = _float_to_codes(gradient, base.dtype)
    layers = [
        Layer("original photo", base),
        Layer(
            f"sky tint ({p.mode})",
            np.concatenate([grad, a[..., None]], axis=2),
            opacity=float(p.strength),
            composite_op=ORA_COMPOSITE_OPS[p.mode],
        ),
        matte_layer,
    ]
    return result, layers


def relight(
    image: np.ndarray,
    matte: np.ndarray,
    target=None,
    params: RelightParams | None = None,
    **changes,
) -> np.ndarray:
    """Relight the foreground to match the light of a target sky.

    The foreground's white balance moves by the chromaticity ratio of the target's light to the
    photo's own sky (or, without sky, the foreground's average); for a target sky image its
    exposure moves by the square root of the luminance ratio and its contrast with the
    difference in sky saturation (saturated sunset light: more contrast; grey overcast: less).
    The change is strongest at the sky border and falls off below it like depth
    (``exp(-d / 0.35 H)``, never below 25 %). A photo without sky is relit evenly.

    Parameters
    ----------
    image, matte
        As for :func:`replace_sky`; the matte is cleaned the same way (``params.cleanup``).
    target : ndarray or float, optional
        A sky image (RGB array) or a colour temperature in kelvin; default
        ``params.temperature`` (``params.sky`` names a sky for the surfaces that load it).
    params : RelightParams, optional
        ``strength`` (0 leaves the photo unchanged) and the rest of :class:`RelightParams`.
    **changes
        Fields of :class:`RelightParams` to change.

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``; sky pixels (cleaned matte 1) are unchanged.
    """
    return _relight(image, matte, target, _params(RelightParams, params, changes))[0]


def _relight(image, matte, target, p: RelightParams, want_weight: bool = False):
    check_image(image)
    alpha = clean_matte(check_matte(matte, image.shape[:2]), p.cleanup)
    target = p.temperature if target is None else target
    return (*relight_engine(image, alpha, target, p.strength, want_weight=want_weight), alpha)


def relight_layers(
    image: np.ndarray,
    matte: np.ndarray,
    target=None,
    params: RelightParams | None = None,
    **changes,
) -> tuple[np.ndarray, list[Layer]]:
    """:func:`relight`, also as layers: the photo, the relit foreground with the falloff weight
    as alpha, and the hidden matte. Returns ``(result, layers)``."""
    result, adjusted, weight, _, alpha = _relight(
        image, matte, target, _params(RelightParams, params, changes), want_weight=True
    )
    base = _layer_codes(image)
    w = _float_to_codes(np.clip(weight, 0, 1), base.dtype)
    _, matte_layer = _matte_layers(base, alpha)
    layers = [
        Layer("original photo", base),
        Layer("relight", np.concatenate([_layer_codes(adjusted), w[..., None]], axis=2)),
        matte_layer,
    ]
    return result, layers
