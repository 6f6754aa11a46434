"""``skyseg replace``: put a new sky into each photo."""

from __future__ import annotations

from ._effects import add_effect_arguments, add_param_options, given_params, run_effect


def register(subparsers) -> None:
    from ..effects.params import REPLACE_PRESETS, ReplaceParams
    from ..skygen import SKY_PRESETS

    parser = subparsers.add_parser(
        "replace",
        help="replace the sky with a preset, bundled or own sky image",
        description="Replace the sky of each photo. The new sky is scaled to cover the sky region with its "
        "horizon on the photo's sky border, the foreground is relit and colour matched toward its "
        "light, and it is blended in linear light. Writes <stem>_replaced.<ext>. "
        f"Skies: {', '.join(SKY_PRESETS)}, an image file, or a folder of your own skies "
        "(FOLDER/NAME picks one by name; FOLDER with --all uses each).",
    )
    add_effect_arguments(parser)
    parser.add_argument(
        "--look",
        choices=tuple(REPLACE_PRESETS),
        default="natural",
        help="a set of control values to start from; options given override it (default natural)",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="with --sky FOLDER: one result per sky in it, <stem>_replaced_<sky>.<ext>",
    )
    add_param_options(
        parser,
        ReplaceParams,
        "controls",
        extra_help={"sky": f" ({', '.join(SKY_PRESETS)}; a file; FOLDER/NAME; FOLDER with --all)"},
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..effects.params import ReplaceParams, replace_preset
    from ..skygen import sky_choices

    params = replace_preset(args.look, **given_params(args, ReplaceParams))
    skies = sky_choices(params.sky, every=args.all)
    variants = [(name, [params.replace(sky=sky)]) for name, sky in skies]
    return run_effect(args, "replaced", variants)
