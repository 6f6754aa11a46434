"""The gradient tint: its parameters, its identity and its functions."""

from __future__ import annotations

import typing
from dataclasses import dataclass

import numpy as np

from ...blend_modes import BLEND_MODES, BLENDS
from ...declare import Declared, control
from ...depth import to_codes
from ...matte import check_image, check_matte
from ...ora import Layer
from .._cleanup import clean_matte, require_sky
from .._common import cleanup_control, layer_codes, matte_layers, resolve_params
from .._tint import tint
from ..registry import Effect, register


@dataclass(frozen=True)
class TintParams(Declared):
    """Gradient tint of the sky (:func:`skyseg_core.effects.tint_sky`)."""

    effect: typing.ClassVar[str] = "tint"
    stops: tuple[tuple[float, str], ...] = control(
        ((0.0, "#ff9a50"), (1.0, "#3a4f9a")),
        "Gradient",
        "colour stops, position 0 = horizon .. 1 = top of the sky",
    )
    angle: float = control(
        90.0,
        "Angle",
        "direction, counter-clockwise from 'to the right'; 90 = horizon to top",
        -360.0,
        360.0,
        "deg",
        decimals=0,
    )
    mode: str = control(
        "soft_light", "Blend mode", "how the gradient mixes with the sky", choices=BLEND_MODES
    )
    strength: float = control(0.7, "Strength", "opacity of the tint", 0.0, 1.0)
    cleanup: float = cleanup_control()


def tint_sky(
    image: np.ndarray, matte: np.ndarray, params: TintParams | None = None, **changes
) -> np.ndarray:
    """Tint the sky with a colour gradient.

    Parameters
    ----------
    image, matte
        As for :func:`~skyseg_core.effects.replace_sky`; the matte is cleaned the same way
        (``params.cleanup``).
    params : TintParams, optional
        ``stops`` (two or more (position, colour): position 0 = the horizon .. 1 = the top of the
        sky, colour ``"#rrggbb"`` or (r, g, b) floats 0..1 / integers 0..255, sRGB), ``angle``
        (degrees counter-clockwise from "to the right"; 90 runs from the bottom of the sky to
        its top; the gradient spans the sky's bounding box), ``mode`` (one of
        :data:`~skyseg_core.blend_modes.BLEND_MODES`: W3C formulas on sRGB values, as in
        Photoshop, GIMP, Krita) and ``strength`` (opacity; the matte scales it per pixel, mixed
        in linear light).
    **changes
        Fields of :class:`TintParams` to change.

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``; pixels whose cleaned matte is 0 are unchanged.

    Raises
    ------
    NoSkyError
        Less than :data:`~skyseg_core.effects.MIN_SKY_SHARE` of the frame is sky after the
        clean-up.
    """
    return _tint(image, matte, resolve_params(TintParams, params, changes))[0]


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
    p = resolve_params(TintParams, params, changes)
    result, gradient, alpha = _tint(image, matte, p, with_layer=True)
    base = layer_codes(image)
    a, matte_layer = matte_layers(base, alpha)
    grad = to_codes(gradient, base.dtype)
    layers = [
        Layer("original photo", base),
        Layer(
            f"sky tint ({p.mode})",
            np.concatenate([grad, a[..., None]], axis=2),
            opacity=float(p.strength),
            composite_op=BLENDS[p.mode].ora_op,
        ),
        matte_layer,
    ]
    return result, layers


EFFECT = register(
    Effect(
        name="tint",
        params=TintParams,
        run=lambda image, matte, p, skies: tint_sky(image, matte, p),
        run_layers=lambda image, matte, p, skies: tint_sky_layers(image, matte, p),
        title="Tint sky",
        short="Tint",
        verb="tinted",
        layer_name="Sky tinted",
        needs_sky=True,
        summary="tint the sky with a colour gradient (blend modes)",
        description="Tint the sky of each photo with a gradient of two or more colour stops at "
        "any angle.",
        switch="Tint the sky",
        hint="At 90° the left stop colours the horizon and the right stop the top of the sky.",
    )
)
