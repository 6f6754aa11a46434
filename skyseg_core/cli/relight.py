"""``skyseg relight``: relight the foreground to a sky's light or a colour temperature."""

from __future__ import annotations

from ._effects import add_effect_arguments, add_param_options, given_params, run_effect


def register(subparsers) -> None:
    from ..effects.params import RelightParams

    parser = subparsers.add_parser(
        "relight",
        help="match the foreground's light to a sky or a colour temperature",
        description="Adjust each photo's foreground exposure, white balance and contrast toward the light of a "
        "sky (--sky) or a colour temperature (--temperature), strongest at the sky border. "
        "Writes <stem>_relit.<ext>.",
    )
    add_effect_arguments(parser)
    add_param_options(parser, RelightParams, "controls")
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..effects.params import RelightParams
    from ..skygen import sky_choices

    params = RelightParams(**given_params(args, RelightParams))
    if params.sky is not None:
        params = params.replace(sky=sky_choices(params.sky)[0][1])
    return run_effect(args, "relit", [("", [params])])
