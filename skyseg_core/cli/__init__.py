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

from ..errors import EXIT_INTERNAL, EXIT_USAGE, SkysegError
from ._lines import error_line, notes_as_lines, printable


class _Parser(argparse.ArgumentParser):
    """Usage errors: the usage of the command that failed, one error line (with a close match
    when an option or choice was mistyped), exit 2."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"skyseg: error: {message}{self._suggestion(message)}\n")

    def _suggestion(self, message: str) -> str:
        import difflib
        import re

        choice = re.search(r"invalid choice: '?([^'(]*?)'? \(choose from (.*)\)", message)
        if choice:
            names = [name.strip(" '\"") for name in choice.group(2).split(",")]
            close = difflib.get_close_matches(choice.group(1), names, n=1, cutoff=0.6)
            return f" (did you mean {close[0]}?)" if close else ""
        if message.startswith("unrecognized arguments:"):
            options = [o for o in self._option_string_actions if o.startswith("--")]
            for word in message.split(":", 1)[1].split():
                if word.startswith("-"):
                    close = difflib.get_close_matches(
                        word.split("=", 1)[0], options, n=1, cutoff=0.6
                    )
                    if close:
                        return f" (did you mean {close[0]}?)"
        return ""


class _CommandParser(_Parser):
    """A sub-command's parser: an unknown option is its error (its usage, its options), not
    passed up to the top level."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(prog="skyseg", description="Find the sky in photographs and use it.")
    parser.add_argument("--version", action="version", version=f"skyseg {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_CommandParser
    )
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

    try:
        # SIGTERM/SIGHUP unwind like Ctrl-C: no .part file is left
        with signals_as_interrupt(), notes_as_lines(getattr(args, "quiet", False)):
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
        print(
            f"skyseg: internal error: {type(exc).__name__}: {printable(exc)} (set SKYSEG_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
