"""``skyseg worker``: the JSON-lines worker that the GIMP and Krita plug-ins start."""

from __future__ import annotations


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "worker", help="serve plug-in requests as JSON lines on stdin/stdout (used by GIMP and Krita)",
        description="Read one JSON request per line on stdin and answer one JSON line on stdout; "
                    "see skyseg_core/worker.py for the protocol. Logs go to stderr.")
    parser.add_argument("--max-pixels", type=int, default=None, metavar="N",
                        help="refuse images with more pixels (default: SKYSEG_MAX_PIXELS or 200 MP)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..worker import main

    return main(max_pixels=args.max_pixels)
