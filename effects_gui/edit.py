"""The edit's plain data, apart from Qt: the effect settings (:class:`EditState`, frozen, so a
job can take it as it is), the chosen sky, the view and brush settings, and the preview's size
(:func:`proxy_of`). :class:`effects_gui.model.EditorModel` holds them and announces changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skyseg_core.declare import sky_fields
from skyseg_core.effects.registry import REGISTRY, RegistryView

from . import commands

DEFAULT_PROXY_LONG_SIDE = 2048


GROUPS: Mapping[str, str] = RegistryView(lambda effect: effect.short)
"""The edit's effect groups (the registered effects, :mod:`skyseg_core.effects.registry`) and
their titles."""


def sky_driven(group: str) -> bool:
    """Whether effect ``group`` is on exactly when a sky is chosen in the library (it needs a
    sky image: a required sky field, which takes the chosen sky) rather than by its switch."""
    return bool(sky_fields(REGISTRY[group].params)[0])


PLACEMENT = ("sky", *REGISTRY["replace"].look_keeps)
"""Replacement fields a look leaves as they are: which sky and where it sits."""


@dataclass
class SkyChoice:
    """A replacement sky: its source (a file path or a preset/bundled name, what
    ``ReplaceParams.sky`` holds), its label, the full image (export) and a preview-sized copy."""

    source: str
    label: str
    full: np.ndarray
    preview: np.ndarray


@dataclass
class ViewSettings:
    mode: str = "result"  # "overlay" (photo + matte overlay), "matte", "result"
    overlay: bool = True
    opacity: float = 0.5
    before: bool = False  # the whole photo as it was (the backslash key)
    split: bool = False  # before on the left of the divider, the result on its right
    divider: float = 0.5  # the divider's place, 0 left .. 1 right of the photo


@dataclass
class BrushSettings:
    tool: str = "pan"  # "pan", "brush", "move_sky"
    add: bool = True
    radius: float = 40.0  # in preview pixels
    hardness: float = 0.5
    edge_aware: bool = True  # a rough stroke follows the photo (gaps in foliage, tree lines)
    flow: float = 1.0  # strength: how far one stroke moves the matte toward its target


def _defaults() -> dict[str, Any]:
    out = {name: effect.params() for name, effect in REGISTRY.items()}
    return out | {name: cls() for name, (cls, _title) in commands.EDIT_PARAMS.items()}


@dataclass(frozen=True)
class EditState:
    """Everything the effects depend on: the declared parameters of every registered effect
    (so their defaults are the library's) and which of the switched effects are on. Frozen
    (changes replace it), so a render or export job can take it as it is.

    ``state.tint`` is the tint's parameters and ``state.tint_enabled`` whether it is on (any
    registered effect likewise).
    """

    params: dict[str, Any] = field(default_factory=_defaults)
    """Effect name -> its parameters."""
    enabled: frozenset[str] = frozenset()
    """The switched effects that are on."""

    def __getattr__(self, name: str):
        params = self.__dict__.get("params", {})
        if name in params:
            return params[name]
        if name.endswith("_enabled") and name[: -len("_enabled")] in params:
            return name[: -len("_enabled")] in self.enabled
        raise AttributeError(name)

    def get(self, group: str):
        """The parameters of effect ``group`` (the declared defaults for one registered later)."""
        return self.params.get(group) or commands.param_class(group)()

    def with_params(self, group: str, params) -> EditState:
        return dataclasses.replace(self, params={**self.params, group: params})

    def with_enabled(self, group: str, on: bool) -> EditState:
        enabled = self.enabled | {group} if on else self.enabled - {group}
        return dataclasses.replace(self, enabled=frozenset(enabled))

    def steps(self, sky: str | None) -> list:
        """The effect chain for :func:`skyseg_core.pipeline.render`, in the registry's order:
        an effect that needs a sky image (replace) when a sky (its source) is chosen, taking
        it; every other effect when it is on. An optional sky field that is set takes the
        light of the chosen sky (without one, it is unset: the relight's temperature)."""
        out: list = []
        for group in REGISTRY:
            params = self.get(group)
            required, optional = sky_fields(params)
            if required:
                if sky is not None:
                    out.append(params.replace(**{name: sky for name in required}))
                continue
            if group not in self.enabled:
                continue
            changes = {n: sky for n in optional if getattr(params, n) is not None}
            changes.update({n: None for n in optional if sky is None})
            out.append(params.replace(**changes) if changes else params)
        return out


def proxy_of(image: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """A uint8 copy of ``image`` whose longer side is at most ``long_side``, and its scale."""
    from skyseg_core.matte import to_uint8_rgb

    small, scale = shrunk(image, long_side)
    return np.ascontiguousarray(to_uint8_rgb(small)), scale


def shrunk(image: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """``image`` with its longer side at most ``long_side``, at its own depth, and its scale."""
    import cv2

    h, w = image.shape[:2]
    scale = min(1.0, long_side / max(h, w))
    small = image
    if scale < 1.0:
        # OpenCV's area resampling is fast only for integer factors: shrink by the largest one
        # first, then the remaining factor (0.5..1) bilinearly. 12 MP to 2048 px: ~20 ms, not ~160.
        factor = int(1.0 / scale)
        if factor >= 2:
            small = cv2.resize(
                image, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA
            )
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        if small.shape[1::-1] != size:
            small = cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)
    return small, scale
