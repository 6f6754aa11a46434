"""Registry of effects, and of the steps the pipeline runs.

Each effect lives in its own module under :mod:`skyseg_core.effects.steps` and registers one
:class:`Effect`: its parameter declaration (a :class:`~skyseg_core.declare.Declared` dataclass),
its identity (name, titles, verb, result layer name, whether it needs sky, what it outputs) and
its functions. Adding an effect is one module there plus one entry in ``STEP_MODULES``. The
command line's sub-commands, the worker's operations and schema, the editor's panels and the
plug-ins' procedures and actions are all generated from :data:`REGISTRY`.

A step whose output is not an RGB picture (the cut-out: RGBA, ``output="rgba"``) is registered
the same way into :data:`STEPS`, which the pipeline and the worker run; :data:`REGISTRY` (what
the surfaces that composite an RGB result are built from: effect commands, editor panels,
plug-in procedures and actions, the schema's effects) holds the RGB steps only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError, shorten

Skies = Callable[[str], np.ndarray]
"""``skies(name) -> RGB array``: the skies a step names (a preset, a bundled name, a file)."""


@dataclass(frozen=True)
class Effect:
    """One registered effect.

    ``run(image, matte, params, skies)`` returns the result (the photo's shape and dtype);
    ``run_layers`` the same and its layers (bottom to top: the original photo, the effect's own
    layers, the hidden matte) for a layered file.
    """

    name: str
    """The effect's name: the command line's sub-command, the worker's op, the schema's key."""
    params: type[Any]
    """Its parameter dataclass (defaults, ranges, labels and help of every field)."""
    run: Callable[..., np.ndarray]
    run_layers: Callable[..., tuple[np.ndarray, list]]
    title: str
    """What a menu calls it ("Tint sky"): plug-in procedures and actions."""
    short: str
    """What a panel calls it ("Tint"): the editor's tab and undo steps."""
    verb: str
    """Its past participle ("tinted"): output names ``<stem>_<verb>.<ext>``, "nothing tinted"."""
    layer_name: str
    """The name of the result layer the plug-ins add ("Sky tinted")."""
    needs_sky: bool
    """Whether a photo without sky is refused (:class:`~skyseg_core.effects.NoSkyError`)."""
    summary: str
    """One line for the command list."""
    description: str
    """What the effect does, for ``--help``."""
    switch: str = ""
    """The editor's check box that turns the effect on ("Tint the sky")."""
    hint: str = ""
    """A line of help under the editor's panel."""
    looks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Named sets of changes from the defaults (the first is offered first); your own looks
    (:mod:`skyseg_core.effects.looks`) are added to them on every surface."""
    look_keeps: tuple[str, ...] = ()
    """Fields a look leaves as they are besides the sky (where the sky sits)."""
    output: str = "rgb"
    """What ``run`` returns: ``"rgb"``, the photo's shape and dtype (an effect, in
    :data:`REGISTRY`), or ``"rgba"``, the photo with an alpha channel (the cut-out: a last step,
    without layers, left off every surface that composites an RGB result)."""


OUTPUTS = ("rgb", "rgba")
"""The kinds of picture a step makes."""

STEPS: dict[str, Effect] = {}
"""Step name -> :class:`Effect`, in registration order: every step the pipeline runs."""


class _RgbSteps(Mapping):
    """The steps of :data:`STEPS` whose output is an RGB picture (a live view)."""

    def __getitem__(self, name: str) -> Effect:
        step = STEPS[name]
        if step.output != "rgb":
            raise KeyError(name)
        return step

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, step in STEPS.items() if step.output == "rgb"])

    def __len__(self) -> int:
        return sum(step.output == "rgb" for step in STEPS.values())

    def __repr__(self) -> str:
        return repr(dict(self))


REGISTRY: Mapping[str, Effect] = _RgbSteps()
"""Effect name -> :class:`Effect`, in registration order: the steps whose output is an RGB
picture, which every surface offers (a live view of :data:`STEPS`)."""


def register(effect: Effect) -> Effect:
    """Add ``effect`` to the registry (a later one of the same name replaces it)."""
    if not effect.name or getattr(effect.params, "effect", None) != effect.name:
        raise ValueError(f"{effect.params.__name__}.effect must be the effect's name")
    if effect.output not in OUTPUTS:
        raise ValueError(f"{effect.name}: output must be one of {OUTPUTS}, got {effect.output!r}")
    STEPS[effect.name] = effect
    return effect


def unregister(name: str) -> None:
    """Take ``name`` out of the registry (tests that register a toy effect)."""
    STEPS.pop(name, None)


def get_effect(name: str) -> Effect:
    """The effect ``name``; an :class:`InputError` lists the valid names otherwise."""
    if name not in REGISTRY:
        raise InputError(
            f"unknown effect {shorten(repr(name))}; choose one of: {', '.join(REGISTRY)}"
        )
    return REGISTRY[name]


def get_step(name: str) -> Effect:
    """The step ``name``: an effect or a step with another output (the cut-out); an
    :class:`InputError` lists the valid names otherwise."""
    if name not in STEPS:
        raise InputError(f"unknown effect {shorten(repr(name))}; choose one of: {', '.join(STEPS)}")
    return STEPS[name]


def effect_of(step) -> Effect:
    """The registered step (an effect, or the cut-out) whose parameters ``step`` is."""
    effect = STEPS.get(getattr(step, "effect", ""))
    if effect is None or not isinstance(step, effect.params):
        raise InputError(f"not an effect step: {shorten(repr(step))}")
    return effect


class RegistryView(Mapping):
    """Effect name -> ``pick(effect)`` for every registered effect, as the registry holds them
    now (an effect registered later is in it)."""

    def __init__(self, pick: Callable[[Effect], Any]):
        self._pick = pick

    def __getitem__(self, name: str) -> Any:
        return self._pick(REGISTRY[name])

    def __iter__(self) -> Iterator[str]:
        return iter(list(REGISTRY))

    def __len__(self) -> int:
        return len(REGISTRY)

    def __repr__(self) -> str:
        return repr(dict(self))


EFFECTS: Mapping[str, type] = RegistryView(lambda effect: effect.params)
"""Effect name -> its parameter dataclass (a live view of :data:`REGISTRY`)."""


def effect_params(name: str, values: dict | None = None):
    """The parameters of step ``name`` (an effect or the cut-out) from a plain dict (e.g.
    decoded JSON)."""
    return get_step(name).params.from_dict(values)


__all__ = [
    "EFFECTS",
    "OUTPUTS",
    "REGISTRY",
    "STEPS",
    "Effect",
    "RegistryView",
    "Skies",
    "effect_of",
    "effect_params",
    "get_effect",
    "get_step",
    "register",
    "unregister",
]
