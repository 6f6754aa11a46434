"""``skyseg relight``: relight the foreground to a target sky's light."""

from __future__ import annotations

import re

from ._effects import add_effect_arguments, percent, run_effect, shared_file


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "relight", help="match the foreground's light to a sky image or colour temperature",
        description="Adjust each photo's foreground exposure, white balance and contrast toward the light of a "
                    "target sky, strongest at the sky border. Writes <stem>_relit.<ext>.")
    add_effect_arguments(parser)
    parser.add_argument("--target", required=True, metavar="FILE|PRESET|NK",
                        help="sky image file, sky preset (e.g. sunset) or colour temperature (e.g. 3200K)")
    parser.add_argument("--strength", type=percent, default=1.0, metavar="0..1", help="amount (default 1)")
    parser.set_defaults(func=run)


def load_target(text: str, max_pixels=None):
    """A colour temperature (``3200K`` or ``3200``) or a sky (file, bundled, preset)."""
    from ..skygen import load_sky

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*[kK]?\s*", text)
    if m:
        return float(m.group(1))
    return load_sky(text, max_pixels=max_pixels)


def run(args) -> int:
    import numpy as np

    from ..effects import relight, relight_layers

    target = load_target(args.target, args.max_pixels)
    relight(np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2), np.float32), target, args.strength)  # fail once

    def apply(image, matte, want_layers):
        if want_layers:
            result, layers = relight_layers(image, matte, target, args.strength)
        else:
            result, layers = relight(image, matte, target, args.strength), None
        return result, layers, {"sky_fraction": round(float(matte.mean()), 4)}

    return run_effect(args, "relit", apply, shared_reads=shared_file(args.target))
