"""``skyseg replace``: put a new sky into each photo."""

from __future__ import annotations

from ._effects import add_effect_arguments, pair, percent, run_effect, shared_file


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "replace", help="replace the sky with a preset, bundled or own sky image",
        description="Replace the sky of each photo. The new sky is scaled to cover the sky region with its "
                    "horizon on the photo's sky border and blended in linear light. Writes <stem>_replaced.<ext>.")
    add_effect_arguments(parser)
    parser.add_argument("--sky", required=True, metavar="FILE|PRESET",
                        help="sky image file, or a preset (see `skyseg make-sky --help`), e.g. golden_hour")
    controls = parser.add_argument_group("controls")
    controls.add_argument("--shift-edge", type=percent, default=0.0, metavar="PCT",
                          help="grow (+) or shrink (-) the sky, percent of the longer side (default 0)")
    controls.add_argument("--fade-edge", type=percent, default=0.0, metavar="PCT",
                          help="feather the edge, percent of the longer side (default 0)")
    controls.add_argument("--color-match", type=percent, default=0.0, metavar="0..1",
                          help="harmonise the foreground's light with the new sky (default 0)")
    controls.add_argument("--halo", type=percent, default=0.0, metavar="0..1",
                          help="edge light: the sky's light spilling over the horizon (default 0)")
    controls.add_argument("--defocus", type=percent, default=0.0, metavar="0..1",
                          help="blur the new sky to the original sky's estimated blur (1 = match; default 0)")
    controls.add_argument("--flip", action="store_true", help="mirror the new sky left-right")
    controls.add_argument("--position", type=pair, default=(0.5, 0.5), metavar="X,Y",
                          help="pan the new sky: X 0..1 left-right, Y 0.5 = horizon on the border (default 0.5,0.5)")
    controls.add_argument("--scale", type=percent, default=1.0, metavar="S",
                          help="extra zoom of the new sky (default 1)")
    parser.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from ..effects import replace_sky, replace_sky_layers
    from ..skygen import load_sky

    sky = load_sky(args.sky, max_pixels=args.max_pixels)
    params = dict(shift_edge=args.shift_edge, fade_edge=args.fade_edge, color_match=args.color_match,
                  halo=args.halo, defocus=args.defocus, flip=args.flip, position=args.position, scale=args.scale)
    replace_sky(np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2), np.float32), sky[:2, :2], **params)  # bad values fail once

    def apply(image, matte, want_layers):
        if want_layers:
            result, layers = replace_sky_layers(image, matte, sky, **params)
        else:
            result, layers = replace_sky(image, matte, sky, **params), None
        return result, layers, {"sky_fraction": round(float(matte.mean()), 4)}

    return run_effect(args, "replaced", apply, shared_reads=shared_file(args.sky))
