"""Planning a batch's inputs and outputs: the photo on standard input (``-``) and an image
sent to standard output (``-o -``), the usage errors found before anything is read, and
where each input's output goes (:func:`output_path_for`)."""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import dataclasses
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError, OutputError
from ..io import max_file_bytes, max_pixels_limit
from ..methods import resolve_name
from ._options import (
    FORMAT_OF_SUFFIX,
    OUTPUT_FORMATS,
    check_name_template,
    file_argument,
)


@dataclasses.dataclass
class Run:
    """What :func:`output_path_for` needs to know about the batch being planned."""

    folders: dict[Path, Path] = dataclasses.field(
        default_factory=dict
    )  # input -> sub-folder of its folder
    spool: Path | None = None  # temporary folder for stdin and stdout
    stdin: Path | None = None
    stdout: Path | None = None
    method: str | None = None


current_run: contextvars.ContextVar[Run | None] = contextvars.ContextVar(
    "skyseg_cli_run", default=None
)


def _split_suffix(suffix: str) -> tuple[str, str]:
    """``"_replaced.jpg"`` -> ``("_replaced", ".jpg")``; ``".png"`` -> ``("", ".png")``."""
    dot = suffix.rfind(".")
    return (suffix, "") if dot < 0 else (suffix[:dot], suffix[dot:])


def _method_field(args: argparse.Namespace, run: Run | None) -> str:
    if getattr(args, "matte", None):
        return "matte"
    if run is not None and run.method is not None:
        return run.method
    method = resolve_name(getattr(args, "method", "auto"))
    if run is not None:
        run.method = method
    return method


def output_path_for(
    source: Path,
    args: argparse.Namespace,
    suffix: str,
    n_inputs: int,
    *,
    beside: str | None = None,
    tag: str | None = None,
) -> Path:
    """Where the output for ``source`` goes.

    ``-o FILE``; ``-o -`` (stdout, through a temporary file :func:`run_batch` streams out);
    else a name in ``--out-dir`` (under the input's sub-folder with ``--recursive``) or beside
    the input. The name is ``--name`` rendered (fields :data:`NAME_FIELDS`), else
    ``<stem><suffix>`` in ``--out-dir`` and ``<stem><beside>`` beside the input (``beside``
    defaults to ``suffix``). ``--format`` replaces the extension of ``suffix``. ``tag`` is the
    ``{tag}`` field (default: ``suffix`` without its extension and leading ``_``). Whether the
    output may be written is decided for the whole run by :func:`run_batch`'s plan.
    """
    run = current_run.get()
    label, ext = _split_suffix(suffix)
    beside_label = _split_suffix(beside)[0] if beside is not None else label
    fmt = getattr(args, "format", None)
    if fmt:
        ext = OUTPUT_FORMATS[fmt]
    output = getattr(args, "output", None)
    if output is not None:
        if n_inputs != 1:
            raise OutputError("-o/--output takes one input; use --out-dir for several")
        if output == "-":
            if run is None or run.spool is None:
                raise OutputError("-o - (stdout) works for a batch run through run_batch only")
            run.stdout = run.spool / f"stdout{ext}"
            return run.stdout
        return file_argument(output, "-o/--output")
    source = Path(source)
    rel = run.folders.get(source, Path()) if run is not None else Path()
    out_dir = getattr(args, "out_dir", None)
    folder = Path(out_dir) / rel if out_dir else source.parent
    template = getattr(args, "name", None)
    if template is not None:
        check_name_template(template)
        fields = {
            "stem": source.stem,
            "ext": ext.lstrip("."),
            "tag": tag if tag is not None else label.lstrip("_"),
        }
        if "{method" in template:
            fields["method"] = _method_field(args, run)
        try:
            name = template.format(**fields)
        except (KeyError, ValueError, IndexError) as exc:
            raise OutputError(f"--name {template!r}: {exc}") from None
        return folder / file_argument(name, "--name")
    return folder / f"{source.stem}{label if out_dir else beside_label}{ext}"


_MAGIC = (
    (b"\xff\xd8", ".jpg"),
    (b"\x89PNG", ".png"),
    (b"II*\x00", ".tif"),
    (b"MM\x00*", ".tif"),
    (b"GIF8", ".gif"),
    (b"BM", ".bmp"),
)


def _stdin_suffix(head: bytes) -> str:
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    return next((ext for magic, ext in _MAGIC if head.startswith(magic)), ".img")


STDIN_CHUNK = 1 << 20
"""Bytes of standard input read at a time."""


def read_stdin(spool: Path, max_pixels: int | None) -> Path:
    """Copy the photo on standard input into ``spool`` a chunk at a time, so memory stays one
    chunk whatever the pixel limit; more bytes than any photo of the limit can need are refused."""
    stream = sys.stdin
    if stream is None or stream.isatty():
        raise InputError(
            "standard input is a terminal, not a photo; pipe one in (skyseg mask - -o - < in.jpg > sky.png)",
            "-",
        )
    limit = max_file_bytes(max_pixels_limit(max_pixels))
    chunk = stream.buffer.read(min(STDIN_CHUNK, limit + 1))
    path = spool / f"stdin{_stdin_suffix(chunk[:16])}"
    size = 0
    with open(path, "wb") as fh:
        while chunk:
            size += len(chunk)
            if size > limit:
                raise InputError(
                    f"more than {limit:,} bytes on standard input, far larger than any photo of "
                    "up to the pixel limit",
                    "-",
                )
            fh.write(chunk)
            chunk = stream.buffer.read(min(STDIN_CHUNK, limit + 1 - size))
    return path


def check_pipes(inputs: list[str], args: argparse.Namespace) -> None:
    """Usage errors of ``-`` (stdin), ``-o -`` (stdout), ``--name`` and ``--format``, before
    anything is read."""
    output = getattr(args, "output", None)
    if inputs.count("-") > 1:
        raise InputError("standard input (-) can be given once")
    if output == "-":
        if getattr(args, "json", False):
            raise OutputError(
                "-o - writes the image to stdout, so --json cannot print there; drop one of them"
            )
        if sys.stdout is None or sys.stdout.isatty():
            raise OutputError(
                "-o - would write an image to the terminal; redirect stdout (> out.png)"
            )
    if getattr(args, "cluster", None) is not None and ("-" in inputs or output == "-"):
        raise InputError(
            "--cluster works on files its workers can read and write; - (stdin, stdout) is "
            "this machine's own"
        )
    if getattr(args, "skip_existing", False) and getattr(args, "overwrite", False):
        raise OutputError(
            "--skip-existing keeps the outputs --overwrite would replace; drop one of them"
        )
    if "-" in inputs and output is None and not getattr(args, "out_dir", None):
        raise InputError("the input is standard input: give -o FILE, -o - (stdout) or --out-dir")
    if getattr(args, "name", None) is not None:
        if output is not None:
            raise OutputError(
                "--name names outputs beside the inputs or in --out-dir; with -o the name is given"
            )
        check_name_template(args.name)
    fmt = getattr(args, "format", None)
    if fmt and output not in (None, "-"):
        named = FORMAT_OF_SUFFIX.get(Path(output).suffix.lower())
        if named is not None and named != fmt:
            raise OutputError(
                f"--format {fmt} contradicts the name {output} (a {named} file); drop one of them"
            )


@contextlib.contextmanager
def spool_folder(needed: bool) -> Iterator[Path | None]:
    if not needed:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="skyseg-pipe-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def as_given(text: object, run: Run) -> str:
    """``text`` with the temporary stdin/stdout files named ``-``, as the user gave them."""
    text = str(text)
    for path in (run.stdin, run.stdout):
        if path is not None:
            text = text.replace(str(path), "-")
    return text
