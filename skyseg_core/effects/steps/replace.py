"""Sky replacement: its parameters, its looks, its identity and its functions."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...declare import Declared, control
from ...depth import to_codes, to_float
from ...errors import InputError, shorten
from ...ora import Layer
from .._common import cleanup_control, layer_codes, matte_layers, resolve_params
from .._replace import replace
from ..registry import Effect, register


@dataclass(frozen=True)
class ReplaceParams(Declared):
    """Sky replacement (:func:`skyseg_core.effects.replace_sky`)."""

    effect: typing.ClassVar[str] = "replace"
    sky: str = control(
        "golden_hour", "Sky", "the sky to put in: a preset or bundled name, or an image file"
    )
    position: tuple[float, float] = control(
        (0.5, 0.5),
        "Position",
        "pan the new sky: x 0 left .. 1 right; y 0.5 puts its horizon on the "
        "sky border (larger lowers it)",
        0.0,
        1.0,
    )
    scale: float = control(
        1.0, "Scale", "extra zoom of the new sky (1 = just covers the sky region)", 1.0, 5.0
    )
    flip: bool = control(False, "Flip", "mirror the new sky left-right")
    shift_edge: float = control(
        0.0, "Shift edge", "grow (+) or shrink (-) the sky region", -5.0, 5.0, "%"
    )
    fade_edge: float = control(
        0.15, "Fade edge", "feather the border between new sky and photo", 0.0, 5.0, "%"
    )
    sky_brightness: float = control(
        0.0, "Sky brightness", "exposure of the new sky", -2.0, 2.0, "EV"
    )
    sky_temperature: float = control(
        0.0,
        "Sky temperature",
        "warm (+) or cool (-) the new sky, in mired as colour gels are: +100 turns daylight "
        "(6500 K) into about 3900 K light",
        -100.0,
        100.0,
        "mired",
        decimals=0,
    )
    sky_opacity: float = control(
        1.0,
        "Sky opacity",
        "how much of the new sky shows: 0 keeps the photo's own sky, 1 the new sky alone",
        0.0,
        1.0,
    )
    horizon_haze: float = control(
        0.0,
        "Horizon haze",
        "blend the new sky into the photo's own sky toward the horizon, as haze would: 0 off, "
        "1 the photo's own sky at the horizon, fading out over the lower half of the sky",
        0.0,
        1.0,
    )
    lighting: float = control(
        0.35,
        "Foreground lighting",
        "relight the foreground toward the new sky's light, strongest at the horizon",
        0.0,
        1.0,
    )
    color_match: float = control(
        0.3,
        "Colour match",
        "harmonise the foreground's white balance and exposure with the new sky "
        "(bounded: a strong sky never turns a wall orange)",
        0.0,
        1.0,
    )
    halo: float = control(
        0.25, "Halo", "edge light: the new sky's light spilling over the horizon", 0.0, 1.0
    )
    defocus: float = control(
        0.0, "Defocus", "blur the new sky to the original sky's blur (1 = match it)", 0.0, 4.0
    )
    cleanup: float = cleanup_control()


REPLACE_PRESETS: dict[str, dict[str, Any]] = {
    "natural": {},
    "plain": {"fade_edge": 0.0, "lighting": 0.0, "color_match": 0.0, "halo": 0.0},
    "soft": {"fade_edge": 0.5, "lighting": 0.2, "color_match": 0.2, "halo": 0.15, "defocus": 1.0},
    "dramatic": {"sky_brightness": -0.3, "lighting": 0.7, "color_match": 0.5, "halo": 0.45},
}
"""Named looks for ``replace``: changes from the defaults (``natural`` is the defaults; ``plain``
puts the new sky in and leaves every other pixel as it was)."""


def replace_preset(name: str, **changes) -> ReplaceParams:
    """The :data:`REPLACE_PRESETS` look ``name``, with ``changes`` on top."""
    if name not in REPLACE_PRESETS:
        raise InputError(
            f"unknown look {shorten(repr(name))}; choose one of: {', '.join(REPLACE_PRESETS)}"
        )
    return ReplaceParams(**{**REPLACE_PRESETS[name], **changes})


def replace_sky(
    image: np.ndarray,
    matte: np.ndarray,
    sky: np.ndarray,
    params: ReplaceParams | None = None,
    **changes,
) -> np.ndarray:
    """Replace the sky of a photo.

    The matte is cleaned first (:func:`~skyseg_core.effects.clean_matte`, ``params.cleanup``). The new sky, adjusted
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
        Less than :data:`~skyseg_core.effects.MIN_SKY_SHARE` of the frame is sky after the clean-up.
    InputError
        A parameter out of range or a malformed image. :class:`MatteError` for a bad matte.
    """
    return replace(image, matte, sky, resolve_params(ReplaceParams, params, changes)).image


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
    rep = replace(image, matte, sky, resolve_params(ReplaceParams, params, changes), full_sky=True)
    base = layer_codes(image)
    layers = [Layer("original photo", base)]
    fg = image
    if rep.foreground is not None:
        fg = rep.foreground
        layers.append(Layer("foreground light", layer_codes(fg)))
    if rep.lit_foreground is not None:
        f = to_float(fg)
        r = to_float(rep.lit_foreground)
        screen = 1.0 - (1.0 - r) / np.maximum(1.0 - f, 1e-6)  # what a screen layer must hold
        screen[(1.0 - f) <= 1e-6] = 0.0
        codes = to_codes(screen, base.dtype)
        layers.append(Layer("edge light", codes, composite_op="svg:screen"))
    a, matte_layer = matte_layers(base, rep.alpha)
    assert rep.sky is not None  # full_sky=True keeps the placed sky
    sky_codes = layer_codes(rep.sky)
    layers.append(Layer("new sky", np.concatenate([sky_codes, a[..., None]], axis=2)))
    layers.append(matte_layer)
    return rep.image, layers


EFFECT = register(
    Effect(
        name="replace",
        params=ReplaceParams,
        run=lambda image, matte, p, skies: replace_sky(image, matte, skies(p.sky), p),
        run_layers=lambda image, matte, p, skies: replace_sky_layers(image, matte, skies(p.sky), p),
        title="Replace sky",
        short="Sky",
        verb="replaced",
        layer_name="Sky replaced",
        needs_sky=True,
        summary="replace the sky with a preset, bundled or own sky image",
        description="Replace the sky of each photo. The new sky is scaled to cover the sky "
        "region with its horizon on the photo's sky border, the foreground is relit and colour "
        "matched toward its light, and it is blended in linear light.",
        looks=REPLACE_PRESETS,
        look_keeps=("position", "scale", "flip"),
    )
)
