"""The hosts' settings files as text: the line in darktable's ``luarc`` that loads the script
and the Lua file of the command it runs, and Krita's ``enable_<plug-in>=true`` in the kritarc's
``[python]`` section. Bytes in, bytes out: every byte the change does not touch stays as it was
(:mod:`.install_plugin` reads and writes the files)."""

from __future__ import annotations

import codecs
import re

from .. import __version__

LUARC_LINE = 'require "skyseg/skyseg"'
"""The line in darktable's ``luarc`` that loads the installed script."""


def lua_string(text: str) -> str:
    """``text`` as a Lua string literal, ASCII only: quotes, backslashes, control and
    non-ASCII bytes (of its UTF-8) as decimal escapes, so any path comes back byte for byte."""
    out = []
    for byte in text.encode("utf-8", "surrogateescape"):
        char = chr(byte)
        out.append(char if 32 <= byte < 127 and char not in '"\\' else f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def lua_config(python: str) -> str:
    """What :data:`LUA_CONFIG_NAME` holds: the command the darktable script runs skyseg with."""
    args = ", ".join(lua_string(a) for a in ("-m", "skyseg_core"))
    return (
        "-- written by skyseg install-plugin darktable; the script runs PYTHON ARGS mask ...\n"
        f"return {{\n  python = {lua_string(python)},\n  args = {{{args}}},\n"
        f"  skyseg_version = {lua_string(__version__)},\n}}\n"
    )


def _has_luarc_line(text: str) -> bool:
    """Whether a luarc (as text) already loads the script: a line that is the require call."""
    wanted = re.compile(r"""^\s*require\s*\(?\s*["']skyseg/skyseg["']\s*\)?\s*;?\s*$""")
    return any(wanted.match(line) for line in text.splitlines())


def luarc_with_script(data: bytes) -> bytes:
    """``data`` (a luarc's bytes) with :data:`LUARC_LINE` added at the end, unless a line
    already loads the script; every other byte stays as it was (a CRLF file gets a CRLF line)."""
    if _has_luarc_line(data.decode("latin-1")):
        return data
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    if data and not data.endswith((b"\n", b"\r")):
        data += newline
    return data + LUARC_LINE.encode("ascii") + newline


_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16's, which starts the same
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "latin-1"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def kritarc_with_plugin(data: bytes, name: str = "skyseg_krita") -> bytes:
    """``data`` (a kritarc's bytes) with ``enable_<name>=true`` in its ``[python]`` section.

    Every other byte stays as it was, whatever the file's encoding: UTF-16 and UTF-32 (told by
    their byte order mark) are decoded and encoded back as such; anything else (UTF-8 with or
    without a mark, Latin-1...) keeps ASCII as ASCII and goes through Latin-1, in which each
    byte is one character and comes back unchanged. Raises ``UnicodeDecodeError`` for a file
    with a UTF-16/32 mark that is not UTF-16/32.
    """
    mark, codec = next(
        ((mark, codec) for mark, codec in _BYTE_ORDER_MARKS if data.startswith(mark)),
        (b"", "latin-1"),
    )
    text = data[len(mark) :].decode(codec)
    return mark + _with_key_enabled(text, f"enable_{name}").encode(codec)


def _with_key_enabled(text: str, key: str) -> str:
    """``text`` (an INI file) with ``key=true`` in its ``[python]`` section, other lines as
    they were: an existing ``key`` is set to true, else the line goes after the section's last
    entry, else a ``[python]`` section is added at the end."""
    entry = f"{key}=true"
    lines = text.split("\n")  # the last item is what follows the final newline ("" if it ends)
    cr = "\r" if len(lines) > 1 and lines[0].endswith("\r") else ""  # a CRLF file stays CRLF
    in_python, python_sections, found, insert_at = False, 0, False, None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            in_python = stripped == "[python]"
            python_sections += in_python
            if in_python and python_sections == 1:
                insert_at = i + 1
            continue
        if not in_python:
            continue
        name, _, value = stripped.partition("=")
        if name.strip() == key:
            found = True
            if value.strip() != "true":
                lines[i] = entry + ("\r" if line.endswith("\r") else "")
        elif stripped and python_sections == 1:
            insert_at = i + 1
    if found:
        return "\n".join(lines)
    if insert_at is not None:
        lines.insert(insert_at, entry + cr)
        return "\n".join(lines)
    if lines[-1] == "":
        lines.pop()
    if lines and lines[-1].strip():
        lines.append(cr)  # a blank line before the new section
    return "\n".join([*lines, "[python]" + cr, entry + cr, ""])
