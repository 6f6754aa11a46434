"""What the effects share: number checks, run finding, statistics size, the clean-up control and
the layer helpers (the photo and the matte as layers in the photo's bit depth).

It sits below every effect engine (``_replace``, ``_tint``, ``_relight``) and every effect
module, so none of them imports another for a helper.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

import numpy as np

from ..declare import control
from ..depth import convert_depth, to_codes
from ..errors import InputError
from ..io import matte_to_uint8
from ..ora import Layer

STATS_SIZE = 384
"""Longer side of the small copies the effects measure colours and place skies on."""

LIGHT_FILTER: ContextVar[Callable[[str, dict], dict] | None] = ContextVar(
    "skyseg_light_filter", default=None
)
"""Set while a clip is rendered (:class:`skyseg_core.clips.FrameRenderer`): each frame's
foreground light estimate (``"relight"``, ``"color_match"``) goes through it, so the light can
be smoothed over time instead of pulsing with the per-frame statistics."""


def steady_light(kind: str, values: dict) -> dict:
    """``values`` (the light estimate ``kind`` of this frame) as :data:`LIGHT_FILTER` makes
    them; unchanged for a photo."""
    light_filter = LIGHT_FILTER.get()
    return values if light_filter is None else light_filter(kind, values)


CLEANUP_HELP = (
    "matte clean-up: values below this count as no sky and above 1 - this as full sky "
    "(the soft edge band between is kept), and sky is kept only where it connects to confident sky"
)


def cleanup_control():
    """The ``cleanup`` field every effect declares (see :func:`~._cleanup.clean_matte`)."""
    return control(0.2, "Matte clean-up", CLEANUP_HELP, 0.0, 0.45)


def check_unit(name: str, value: float, low: float = 0.0, high: float = 1.0) -> float:
    """``value`` as a float in [low, high]; an :class:`InputError` names it otherwise."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(value) or not low <= value <= high:
        raise InputError(f"{name} must be in [{low:g}, {high:g}], got {value:g}")
    return value


def mean_colour(linear: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, float]:
    """The ``weight``-weighted mean colour of ``linear`` (H, W, 3) and the weight's share."""
    total = float(weight.sum())
    if total <= 1e-6:
        return linear.reshape(-1, 3).mean(axis=0).astype(np.float64), 0.0
    return (linear * weight[..., None]).reshape(-1, 3).sum(axis=0) / total, total / weight.size


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True in a 1-D boolean array."""
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def resolve_params(cls, params, changes: dict):
    """``params`` (default: the declared defaults) with ``changes`` applied, validated."""
    if params is None:
        return cls(**changes)
    if not isinstance(params, cls):
        raise InputError(f"expected {cls.__name__}, got {type(params).__name__}")
    return params.replace(**changes) if changes else params


def layer_codes(image: np.ndarray) -> np.ndarray:
    """The photo's codes for a layer: uint8 and uint16 as they are, float as uint16."""
    return image if image.dtype in (np.uint8, np.uint16) else convert_depth(image, np.uint16)


def matte_layers(image: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, Layer]:
    """The matte as alpha in the photo's bit depth, and as its own hidden grey layer."""
    a = to_codes(alpha, np.uint16) if image.dtype == np.uint16 else matte_to_uint8(alpha)
    return a, Layer("sky matte", np.repeat(a[..., None], 3, axis=2), visible=False)
