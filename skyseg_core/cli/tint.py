"""``skyseg tint``: tint the sky with a colour gradient."""

from __future__ import annotations

from ._effects import add_effect_arguments, add_param_options, given_params, run_effect


def register(subparsers) -> None:
    from ..effects.params import TintParams

    parser = subparsers.add_parser(
        "tint",
        help="tint the sky with a colour gradient (blend modes)",
        description="Tint the sky of each photo with a gradient of two or more colour stops at any angle. "
        "Writes <stem>_tinted.<ext>.",
    )
    add_effect_arguments(parser)
    add_param_options(parser, TintParams, "controls")
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..effects.params import TintParams

    return run_effect(args, "tinted", [("", [TintParams(**given_params(args, TintParams))])])
