"""The ``skyseg`` command line.

Each sub-command lives in its own module in this package and defines
``register(subparsers)``; modules are found automatically, so adding a command is one module.
Exit status: 0 success, 2 bad input or usage, 1 internal error.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from ..errors import SkysegError

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors: one line, exit 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"skyseg: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(prog="skyseg", description="Find the sky in photographs and use it.")
    parser.add_argument("--version", action="version", version=f"skyseg {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    from .._signals import Terminated, signals_as_interrupt
    from ._common import error_line, printable

    try:
        with signals_as_interrupt():  # SIGTERM/SIGHUP unwind like Ctrl-C: no .part file is left
            return int(args.func(args) or 0)
    except SkysegError as exc:
        error_line(exc)
        return exc.exit_code
    except Terminated as exc:
        print(f"skyseg: terminated ({exc})", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("skyseg: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line, and the traceback only when asked
        if "SKYSEG_DEBUG" in __import__("os").environ:
            raise
        print(f"skyseg: internal error: {type(exc).__name__}: {printable(exc)} (set SKYSEG_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
