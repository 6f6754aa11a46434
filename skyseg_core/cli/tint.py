"""``skyseg tint``: tint the sky with a colour gradient."""

from __future__ import annotations

import argparse

from ._effects import add_effect_arguments, percent, run_effect


def parse_stops_arg(text: str) -> list[tuple[float, str]]:
    """``"0:#ff9a50,1:#3050a0"`` -> [(0.0, "#ff9a50"), (1.0, "#3050a0")]."""
    stops = []
    for item in text.split(","):
        try:
            pos, colour = item.split(":")
            stops.append((float(pos), colour.strip()))
        except ValueError:
            raise argparse.ArgumentTypeError(f"stops look like 0:#ff9a50,1:#3050a0, got {text!r}") from None
    return stops


def register(subparsers) -> None:
    from ..effects import BLEND_MODES

    parser = subparsers.add_parser(
        "tint", help="tint the sky with a colour gradient (blend modes)",
        description="Tint the sky of each photo with a gradient of two or more colour stops at any angle. "
                    "Writes <stem>_tinted.<ext>.")
    add_effect_arguments(parser)
    parser.add_argument("--stops", type=parse_stops_arg, default=[(0.0, "#ff9a50"), (1.0, "#3a4f9a")],
                        metavar="P:#RRGGBB,...",
                        help="gradient stops, position 0..1 (0 = start) and colour (default 0:#ff9a50,1:#3a4f9a: "
                             "warm horizon, blue top)")
    parser.add_argument("--angle", type=percent, default=90.0, metavar="DEG",
                        help="direction, degrees counter-clockwise from 'to the right'; 90 = bottom to top (default)")
    parser.add_argument("--mode", choices=BLEND_MODES, default="soft_light", help="blend mode (default soft_light)")
    parser.add_argument("--strength", type=percent, default=1.0, metavar="0..1", help="opacity (default 1)")
    parser.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from ..effects import tint_sky, tint_sky_layers

    params = dict(stops=args.stops, angle=args.angle, mode=args.mode, strength=args.strength)
    tint_sky(np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2), np.float32), **params)  # bad values fail once

    def apply(image, matte, want_layers):
        if want_layers:
            result, layers = tint_sky_layers(image, matte, **params)
        else:
            result, layers = tint_sky(image, matte, **params), None
        return result, layers, {"sky_fraction": round(float(matte.mean()), 4)}

    return run_effect(args, "tinted", apply)
