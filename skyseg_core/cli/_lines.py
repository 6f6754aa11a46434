"""What the command line prints: terminal-safe text, ``--json`` lines a strict parser takes,
``skyseg: error:`` lines and the library's notes as ``skyseg: note:`` lines."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sys
import warnings
from collections.abc import Iterator

from ..errors import SkysegNote, is_text

_LAYOUT_CONTROLS = frozenset(
    [0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)
"""Characters that reorder or break a line without being C0/C1 controls: the bidirectional
marks, embeddings, overrides and isolates (a name with U+202E shows ``gpj.exe`` as
``exe.jpg``) and the Unicode line and paragraph separators."""


def _surrogate_escape(code: int) -> str | None:
    """An undecodable byte of a file name (surrogateescape) as ``\\xNN``, another lone
    surrogate as ``\\uDXXX``; None for any other character."""
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF:
        return f"\\u{code:04x}"
    return None


def printable(text: object) -> str:
    """``text`` safe for a terminal line: control characters (newline, ESC of ANSI sequences,
    C1 codes), bidirectional and line-layout controls and undecodable bytes of file names shown
    as escapes, never sent raw."""
    out = []
    for char in str(text):
        code = ord(char)
        escaped = _surrogate_escape(code)
        if escaped is not None:
            out.append(escaped)
        elif code < 0x20 or 0x7F <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        elif code in _LAYOUT_CONTROLS:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def json_line(record: dict) -> str:
    """One ``--json`` line that a strict JSON parser takes.

    A file name that is not valid UTF-8 reaches Python with lone surrogates, which strict
    parsers refuse. Such a string is written with its undecodable bytes as ``\\xNN`` (as in
    error messages) and gets a companion ``<key>_base64`` holding its exact bytes; every other
    string is written as it is.
    """

    def clean(value):
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                out[key] = clean(item)
                if isinstance(item, str) and not is_text(item):
                    with contextlib.suppress(UnicodeEncodeError):  # a surrogate of no file name
                        raw = os.fsencode(item)
                        out[f"{key}_base64"] = base64.b64encode(raw).decode("ascii")
            return out
        if isinstance(value, (list, tuple)):
            return [clean(item) for item in value]
        if isinstance(value, str) and not is_text(value):
            return "".join(_surrogate_escape(ord(c)) or c for c in value)
        return value

    return json.dumps(clean(record))


def error_line(message: object) -> None:
    """Print one ``skyseg: error:`` line on stderr (see :func:`printable`)."""
    print(f"skyseg: error: {printable(message)}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def notes_as_lines(quiet: bool = False) -> Iterator[None]:
    """Inside the block, each :class:`~skyseg_core.errors.SkysegNote` the library issues (a
    metadata block left out, a colour profile not converted through) is one ``skyseg: note:``
    line on stderr, none when ``quiet``; other warnings are shown as before."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if quiet else "always", SkysegNote)
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, SkysegNote):
                print(f"skyseg: note: {printable(message)}", file=sys.stderr, flush=True)
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield
