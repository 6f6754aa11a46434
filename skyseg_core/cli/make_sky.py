"""``skyseg make-sky``: paint a procedural replacement sky."""

from __future__ import annotations

import argparse
import re

from ._options import add_max_pixels_argument


def _size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"size looks like 1600x900, got {text!r}")
    return int(m.group(1)), int(m.group(2))


def register(subparsers) -> None:
    from ..skygen import PRESETS, SKY_PRESETS

    presets = "; ".join(f"{name}: {PRESETS[name].description}" for name in SKY_PRESETS)
    parser = subparsers.add_parser(
        "make-sky",
        help="paint a replacement sky (clear day, golden hour, sunset, ... night, clouds)",
        description=f"Paint a sky; its bottom edge is the horizon. Presets: {presets}.",
    )
    parser.add_argument(
        "preset", choices=SKY_PRESETS, metavar="PRESET", help=", ".join(SKY_PRESETS)
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="image file to write (.jpg, .png, ...)",
    )
    parser.add_argument(
        "--size", type=_size, default=(1600, 900), metavar="WxH", help="size (default 1600x900)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="N", help="seed of clouds and stars (default 0)"
    )
    parser.add_argument(
        "--quality", type=int, default=90, metavar="Q", help="JPEG/WebP quality (default 90)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing file")
    add_max_pixels_argument(parser, "sizes")
    parser.add_argument(
        "--json", action="store_true", help="print a JSON line describing the output"
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..io import save_image
    from ..skygen import make_sky
    from ._lines import json_line
    from ._options import file_argument

    output = file_argument(args.output, "-o/--output")  # '' or 'x.png/' is not a file name
    width, height = args.size
    sky = make_sky(args.preset, width, height, seed=args.seed, max_pixels=args.max_pixels)
    path = save_image(output, sky, overwrite=args.overwrite, quality=args.quality)
    if args.json:
        print(
            json_line(
                {
                    "output": str(path),
                    "preset": args.preset,
                    "size": [width, height],
                    "seed": args.seed,
                }
            )
        )
    return 0
