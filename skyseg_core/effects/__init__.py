"""Sky effects: replacement, gradient tint and relighting, with layered (OpenRaster) output.

Every effect takes the photo (H, W, 3: uint8, uint16 or float in [0, 1]) and its sky matte
(float32 (H, W) in [0, 1], 1 = sky) and returns an image of the same dtype and shape: 16-bit
stays 16-bit. The matte is the alpha of the new sky or tint; mixing happens in linear light
(sRGB decoded, blended, encoded again), so bright skies meet dark edges without a dark fringe.
Pixels the effect does not touch (matte 0 and no foreground adjustment) come back bit-identical.

Distances (``shift_edge``, ``fade_edge``) are in percent of the image's longer side, so a
preview at reduced size and the full-size export look the same.

Each effect is a registered step (:mod:`skyseg_core.effects.registry`), declared in its own
module under :mod:`skyseg_core.effects.steps`. The ``*_layers`` functions return the same result as a list of :class:`skyseg_core.ora.Layer`
(original photo, adjustments, new sky with the matte as alpha, hidden matte) for
:func:`skyseg_core.ora.write_ora`.
"""

from __future__ import annotations

from ..blend_modes import BLEND_MODES, blend
from . import steps
from ._cleanup import MIN_SKY_SHARE, NoSkyError, clean_matte, sky_share
from ._color import kelvin_to_rgb, mired_shift
from ._replace import Replacement, estimate_sky_blur
from ._tint import parse_stops
from .registry import EFFECTS, REGISTRY, Effect, effect_of, get_effect, register, unregister
from .steps.relight import RelightParams, relight, relight_layers
from .steps.replace import (
    REPLACE_PRESETS,
    ReplaceParams,
    replace_preset,
    replace_sky,
    replace_sky_layers,
)
from .steps.tint import TintParams, tint_sky, tint_sky_layers

__all__ = [
    "BLEND_MODES",
    "EFFECTS",
    "MIN_SKY_SHARE",
    "NoSkyError",
    "REGISTRY",
    "REPLACE_PRESETS",
    "Effect",
    "RelightParams",
    "ReplaceParams",
    "Replacement",
    "TintParams",
    "blend",
    "clean_matte",
    "effect_of",
    "estimate_sky_blur",
    "get_effect",
    "kelvin_to_rgb",
    "mired_shift",
    "parse_stops",
    "register",
    "relight",
    "relight_layers",
    "replace_preset",
    "replace_sky",
    "replace_sky_layers",
    "sky_share",
    "steps",
    "tint_sky",
    "tint_sky_layers",
    "unregister",
]
