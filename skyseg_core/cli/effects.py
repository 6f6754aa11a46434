"""The effect sub-commands (``skyseg replace``, ``tint``, ``relight``, ...): one per registered
effect (:data:`skyseg_core.effects.registry.REGISTRY`), generated from its declaration.

Each command takes the inputs, the matte source and outputs (:func:`._effects.add_effect_arguments`)
and one option per declared field. An effect with looks gets ``--look``; a sky field (free text:
a preset, a bundled name, a file, ``FOLDER/NAME``) is resolved here, and a required one also
takes ``--all`` (one result per sky of a folder).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..declare import sky_fields
from ..effects.looks import effect_looks, look_changes
from ..effects.registry import REGISTRY, Effect
from ._effects import add_effect_arguments, add_param_options, given_params, option_name, run_effect


def register(subparsers) -> None:
    for effect in REGISTRY.values():
        register_effect(subparsers, effect)


def register_effect(subparsers, effect: Effect) -> argparse.ArgumentParser:
    """The sub-command of ``effect``."""
    from ..skygen import SKY_PRESETS

    required, _ = sky_fields(effect.params)
    description = f"{effect.description} Writes <stem>_{effect.verb}.<ext>."
    if required:
        description += (
            f" Skies: {', '.join(SKY_PRESETS)}, an image file, or a folder of your own skies "
            "(FOLDER/NAME picks one by name; FOLDER with --all uses each)."
        )
    parser = subparsers.add_parser(effect.name, help=effect.summary, description=description)
    add_effect_arguments(parser)
    if effect.looks:
        first = next(iter(effect.looks))
        parser.add_argument(
            "--look",
            choices=tuple(effect_looks(effect, with_damaged=True)),
            default=first,
            help="a set of control values to start from, bundled or your own (the editor's "
            f"Save look...); options given override it (default {first})",
        )
    if required:
        parser.add_argument(
            "--all",
            action="store_true",
            help=f"with {option_name(required[0])} FOLDER: one result per sky in it, "
            f"<stem>_{effect.verb}_<sky>.<ext>",
        )
    add_param_options(
        parser,
        effect.params,
        "controls",
        extra_help={
            name: f" ({', '.join(SKY_PRESETS)}; a file; FOLDER/NAME; FOLDER with --all)"
            for name in required
        },
    )
    parser.set_defaults(func=lambda args: run(args, effect))
    return parser


def run(args, effect: Effect) -> int:
    """Run ``effect`` over the inputs: the look, then the options given; skies resolved."""
    from ..skygen import sky_choices

    look = getattr(args, "look", None)
    values = look_changes(effect, look) if look else {}
    params = effect.params(**{**values, **given_params(args, effect.params)})
    required, optional = sky_fields(effect.params)
    for name in optional:
        if getattr(params, name) is not None:
            params = params.replace(**{name: sky_choices(getattr(params, name))[0][1]})
    if not required:
        return run_effect(args, effect.verb, [("", [params])])
    skies = sky_choices(getattr(params, required[0]), every=args.all)
    # labelled by file name: run_effect makes them distinct output names (a.jpg, a.png)
    variants = [(Path(sky).name, [params.replace(**{required[0]: sky})]) for _, sky in skies]
    return run_effect(args, effect.verb, variants)
