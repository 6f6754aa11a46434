"""``skyseg worker``: the JSON-lines worker that the GIMP and Krita plug-ins start."""

from __future__ import annotations

from ._options import add_max_pixels_argument


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="serve plug-in requests as JSON lines on stdin/stdout (used by GIMP and Krita)",
        description="Read one JSON request per line on stdin and answer one JSON line on stdout; "
        "see skyseg_core/worker/protocol.py for the protocol. Logs go to stderr.",
    )
    add_max_pixels_argument(parser)
    parser.add_argument(
        "--socket",
        metavar="PATH",
        default=None,
        help="serve on this per-user Unix socket instead of stdin/stdout, shared by the "
        "plug-in processes (see skyseg_core/worker/socket_server.py)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=None,
        metavar="S",
        help="with --socket: exit after S seconds without a request (default 600)",
    )
    parser.add_argument(
        "--detach",
        action="store_true",
        help="with --socket: serve from a background process (the command returns at once)",
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    if args.socket:
        from ..worker.socket_server import IDLE_TIMEOUT
        from ..worker.socket_server import main as socket_main

        idle = IDLE_TIMEOUT if args.idle_timeout is None else args.idle_timeout
        return socket_main(
            args.socket, idle_timeout=idle, max_pixels=args.max_pixels, detach=args.detach
        )
    from ..worker import main

    return main(max_pixels=args.max_pixels)
