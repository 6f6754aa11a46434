"""Foreground relighting: its parameters, its identity and its functions."""

from __future__ import annotations

import typing
from dataclasses import dataclass

import numpy as np

from ...declare import Declared, control
from ...depth import to_codes
from ...matte import check_image, check_matte
from ...ora import Layer
from .._cleanup import clean_matte
from .._common import cleanup_control, layer_codes, matte_layers, resolve_params
from .._relight import relight_engine
from ..registry import Effect, register


@dataclass(frozen=True)
class RelightParams(Declared):
    """Foreground relighting (:func:`skyseg_core.effects.relight`)."""

    effect: typing.ClassVar[str] = "relight"
    sky: str | None = control(
        None,
        "Light of sky",
        "take the light of this sky (preset, bundled name or file) instead of a temperature",
    )
    temperature: float = control(
        5500.0,
        "Temperature",
        "colour temperature of the light, when no sky is given (lower is warmer; the editor "
        "also shows it as the sky temperature's warm/cool shift from daylight in mired)",
        2000.0,
        12000.0,
        "K",
        decimals=0,
        unless="sky",
    )
    strength: float = control(0.6, "Strength", "amount of relighting", 0.0, 1.0)
    cleanup: float = cleanup_control()


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
        As for :func:`~skyseg_core.effects.replace_sky`; the matte is cleaned the same way
        (``params.cleanup``).
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
    return _relight(image, matte, target, resolve_params(RelightParams, params, changes))[0]


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
        image, matte, target, resolve_params(RelightParams, params, changes), want_weight=True
    )
    base = layer_codes(image)
    w = to_codes(weight, base.dtype)
    _, matte_layer = matte_layers(base, alpha)
    layers = [
        Layer("original photo", base),
        Layer("relight", np.concatenate([layer_codes(adjusted), w[..., None]], axis=2)),
        matte_layer,
    ]
    return result, layers


def _target(p: RelightParams, skies):
    return skies(p.sky) if p.sky else None


EFFECT = register(
    Effect(
        name="relight",
        params=RelightParams,
        run=lambda image, matte, p, skies: relight(image, matte, _target(p, skies), p),
        run_layers=lambda image, matte, p, skies: relight_layers(
            image, matte, _target(p, skies), p
        ),
        title="Relight",
        short="Relight",
        verb="relit",
        layer_name="Relit",
        needs_sky=False,
        summary="match the foreground's light to a sky or a colour temperature",
        description="Adjust each photo's foreground exposure, white balance and contrast toward "
        "the light of a sky (--sky) or a colour temperature (--temperature), strongest at the "
        "sky border.",
        switch="Relight the foreground",
        hint="Matches the foreground's exposure, white balance and contrast to the light of the "
        "sky, strongest near the horizon.",
    )
)
