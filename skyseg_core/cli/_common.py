"""What the sub-commands share: method and output options, and the per-input batch loop."""

from __future__ import annotations

import argparse
import base64
import contextlib
import contextvars
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from .._threads import usable_cores
from ..batch import Outcome, connect, outcomes
from ..errors import (
    EXIT_OK,
    EXIT_USAGE,
    InputError,
    OutputError,
    SkysegError,
    SkysegNote,
)
from ..io import path_kind, subfolders, walk_inputs
from ..outputs import Job

TRAIN_EXTRA = (
    "torch",
    "torchvision",
    "segmentation_models_pytorch",
    "albumentations",
    "onnx",
    "sklearn",
    "matplotlib",
)
"""Modules of the ``train`` extra (pyproject.toml) that training needs."""


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


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
                if isinstance(item, str) and not _is_text(item):
                    with contextlib.suppress(UnicodeEncodeError):  # a surrogate of no file name
                        raw = os.fsencode(item)
                        out[f"{key}_base64"] = base64.b64encode(raw).decode("ascii")
            return out
        if isinstance(value, (list, tuple)):
            return [clean(item) for item in value]
        if isinstance(value, str) and not _is_text(value):
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


def require_modules(command: str, modules=TRAIN_EXTRA) -> None:
    """One clear error naming the extra when ``command`` would fail later on a missing import."""
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(
            f"{command} needs the train extra (pip install 'skyseg[train]'); missing: {', '.join(missing)}"
        )


def add_method_argument(parser: argparse.ArgumentParser) -> None:
    """``--method`` and ``--no-refine``, from the matte source's declaration
    (:class:`skyseg_core.pipeline.MatteSource`)."""
    from ..declare import controls
    from ..pipeline import MatteSource

    fields = controls(MatteSource)
    method, method_ctl = fields["method"]
    refine, refine_ctl = fields["refine"]
    parser.add_argument(
        "--method",
        default=method.default,
        metavar="NAME",
        help=f"{method_ctl.help}: a name from `skyseg methods` (default {method.default}, "
        "the best shipped one)",
    )
    parser.add_argument(
        "--no-refine",
        dest="refine",
        action="store_false",
        default=refine.default,
        help=f"skip the {refine_ctl.help}; write the method's raw matte",
    )


OUTPUT_FORMATS = {"png": ".png", "jpg": ".jpg", "tif": ".tif", "webp": ".webp"}
"""``--format`` names and the extension each writes."""

_FORMAT_OF_SUFFIX = {
    **{ext: name for name, ext in OUTPUT_FORMATS.items()},
    ".jpeg": "jpg",
    ".tiff": "tif",
}

NAME_FIELDS = ("stem", "ext", "tag", "method")
"""The fields of a ``--name`` template: the input's file name without extension, the output's
extension (without the dot), the command's tag (``sky``, ``cutout``, ``replaced``, ...) and
the method name (``matte`` when a matte file is given)."""


def whole_number_argument(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse ``type``: a whole number from ``low`` to ``high`` (None: no upper bound)."""
    expected = (
        f"a whole number of {low} or more"
        if high is None
        else f"a whole number from {low} to {high}"
    )

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value

    return parse


quality_argument = whole_number_argument(1, 100)


def add_output_arguments(
    parser: argparse.ArgumentParser, formats: tuple[str, ...] = tuple(OUTPUT_FORMATS)
) -> None:
    """The options every image-writing command shares: where outputs go, how they are named, the
    format and quality, and the batch switches. ``formats``: the ``--format`` choices."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="output file (one input only); - writes it to stdout (format from --format)",
    )
    group.add_argument(
        "--out-dir", metavar="DIR", help="folder for outputs, named after each input"
    )
    parser.add_argument(
        "--name",
        metavar="TEMPLATE",
        help="output file name, with fields {stem} (input name), {ext} (output extension), "
        "{tag} (the command's tag) and {method}, e.g. '{stem}_{method}.png'",
    )
    parser.add_argument(
        "-r",
        "--recursive",
        action="store_true",
        help="read the sub-folders of folder inputs too; outputs mirror them under --out-dir",
    )
    parser.add_argument(
        "--format",
        choices=formats,
        default=None,
        help=f"output format ({', '.join(formats)}); needed with -o - unless the default fits",
    )
    parser.add_argument(
        "--quality",
        type=quality_argument,
        default=None,
        metavar="1-100",
        help="JPEG/WebP quality (default 95; PNG and TIFF are lossless)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    add_max_pixels_argument(parser)
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object per input on stdout"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar, notes or summary")
    add_batch_arguments(parser)


jobs_argument = whole_number_argument(1)


def add_max_pixels_argument(parser: argparse.ArgumentParser, what: str = "images") -> None:
    """``--max-pixels``: the pixel limit (:func:`skyseg_core.io.max_pixels_limit`)."""
    parser.add_argument(
        "--max-pixels",
        type=int,
        default=None,
        metavar="N",
        help=f"refuse {what} with more pixels (default: SKYSEG_MAX_PIXELS or 200 MP)",
    )


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    """Where a batch runs (:mod:`skyseg_core.batch`) and ``--skip-existing``."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--jobs",
        type=jobs_argument,
        default=None,
        metavar="N",
        help="photos worked on at once, each in its own process "
        "(default: the usable cores; 1: one after another in this process)",
    )
    where.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run the batch on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786); "
        "its workers must see the inputs and outputs at the same paths (the cluster extra)",
    )
    parser.add_argument(
        "--skip-existing",
        action="store_true",
        help="leave out photos whose outputs all exist (continue an interrupted batch)",
    )


@dataclasses.dataclass
class _Run:
    """What :func:`output_path_for` needs to know about the batch being planned."""

    folders: dict[Path, Path] = dataclasses.field(
        default_factory=dict
    )  # input -> sub-folder of its folder
    spool: Path | None = None  # temporary folder for stdin and stdout
    stdin: Path | None = None
    stdout: Path | None = None
    method: str | None = None


_current: contextvars.ContextVar[_Run | None] = contextvars.ContextVar(
    "skyseg_cli_run", default=None
)


def _split_suffix(suffix: str) -> tuple[str, str]:
    """``"_replaced.jpg"`` -> ``("_replaced", ".jpg")``; ``".png"`` -> ``("", ".png")``."""
    dot = suffix.rfind(".")
    return (suffix, "") if dot < 0 else (suffix[:dot], suffix[dot:])


def _method_field(args: argparse.Namespace, run: _Run | None) -> str:
    if getattr(args, "matte", None):
        return "matte"
    if run is not None and run.method is not None:
        return run.method
    from ..methods import resolve_name

    method = resolve_name(getattr(args, "method", "auto"))
    if run is not None:
        run.method = method
    return method


def check_name_template(template: str) -> None:
    """Raise :class:`OutputError` for a ``--name`` that cannot name files."""
    import string

    if not template:
        raise OutputError("--name is empty; give a file name template such as '{stem}_sky.png'")
    if "/" in template or "\\" in template or template in (".", ".."):
        raise OutputError(
            f"--name {template!r} is a file name, not a path; use --out-dir for the folder"
        )
    try:
        parts = [part for part in string.Formatter().parse(template) if part[1] is not None]
    except ValueError as exc:
        raise OutputError(f"--name {template!r}: {exc}") from None
    valid = ", ".join("{" + f + "}" for f in NAME_FIELDS)
    for _, field, spec, conversion in parts:
        if field not in NAME_FIELDS:
            raise OutputError(f"--name {template!r}: unknown field {{{field}}}; use {valid}")
        if spec or conversion:  # {stem:{x}}, {stem:>300}, {stem!r}: checked here, not per input
            shown = (
                "{"
                + field
                + (f"!{conversion}" if conversion else "")
                + f":{spec}" * bool(spec)
                + "}"
            )
            raise OutputError(
                f"--name {template!r}: {shown} has a format or conversion; fields are plain: {valid}"
            )


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
    run = _current.get()
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


def file_argument(value: str, option: str) -> Path:
    """A file name given on the command line: not empty, not ending in a folder separator."""
    if not value:
        raise OutputError(f"{option} is empty; give a file name")
    if value.endswith(("/", "\\")) or Path(value).name in ("", ".", ".."):
        raise OutputError("names a folder; give a file name", value)
    return Path(value)


def make_folder(value: str, option: str) -> None:
    """Create an output folder, or one :class:`OutputError` line saying why not."""
    folder = Path(value)
    if path_kind(folder, OutputError) not in ("folder", "missing"):
        raise OutputError(f"{option} is a file, not a folder", folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the {option} folder ({exc.strerror or exc})", folder
        ) from None


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


def _read_stdin(spool: Path, max_pixels: int | None) -> Path:
    """Copy the photo on standard input into ``spool`` a chunk at a time, so memory stays one
    chunk whatever the pixel limit; more bytes than any photo of the limit can need are refused."""
    from ..io import max_file_bytes, max_pixels_limit

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


def _check_pipes(inputs: list[str], args: argparse.Namespace) -> None:
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
        named = _FORMAT_OF_SUFFIX.get(Path(output).suffix.lower())
        if named is not None and named != fmt:
            raise OutputError(
                f"--format {fmt} contradicts the name {output} (a {named} file); drop one of them"
            )


@contextlib.contextmanager
def _spool(needed: bool) -> Iterator[Path | None]:
    if not needed:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="skyseg-pipe-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _shown(text: object, run: _Run) -> str:
    """``text`` with the temporary stdin/stdout files named ``-``, as the user gave them."""
    text = str(text)
    for path in (run.stdin, run.stdout):
        if path is not None:
            text = text.replace(str(path), "-")
    return text


def _make_parents(job: Job, args: argparse.Namespace) -> None:
    """Create the mirrored sub-folders of ``--out-dir`` the job's outputs go into."""
    out_dir = getattr(args, "out_dir", None)
    if not out_dir:
        return
    for path in job.outputs.values():
        parent = path.parent
        if path_kind(parent, OutputError) != "folder" and Path(
            os.path.commonpath([os.path.abspath(parent), os.path.abspath(out_dir)])
        ) == Path(os.path.abspath(out_dir)):
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputError(
                    f"cannot create the folder {parent} ({exc.strerror or exc})", path
                ) from None


def _send_stdout(path: Path) -> None:
    from ..io import write_failure

    try:
        with open(path, "rb") as fh:
            shutil.copyfileobj(fh, sys.stdout.buffer, 1 << 20)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        raise OutputError("standard output was closed before the image was written", "-") from None
    except OSError as exc:  # a full disk or file-size limit behind stdout (> out.png, /dev/full)
        reason = write_failure(exc, "the image there is incomplete")
        raise OutputError(f"cannot write to standard output ({reason})", "-") from None
    finally:
        path.unlink(missing_ok=True)


def run_batch(
    inputs: list[str],
    process: Callable[[Job], dict],
    args: argparse.Namespace,
    what: str = "images",
    plan: Callable[[Path], Job] | None = None,
    shared_reads: tuple[Path, ...] = (),
) -> int:
    """Run ``process`` on each input (files, folders of images, ``-`` for stdin) with a progress bar.

    ``plan(path)`` says what each input reads and writes (default: nothing); every output of the
    batch is planned before any is written (:func:`skyseg_core.outputs.plan_outputs`), and an
    input whose output would destroy an input, a side input or another output is refused. A
    :class:`SkysegError` on one input prints one line on stderr and the batch goes on.
    ``--recursive`` reads sub-folders (outputs mirrored under ``--out-dir``); an output planned
    at ``-o -`` is streamed to stdout once ``process`` has written it. Messages, notes and the
    progress bar go to stderr only.
    Returns the exit status: 0 if all succeeded, else the worst failure's code.
    """
    started = time.monotonic()
    try:
        _check_pipes(list(inputs), args)
    except SkysegError as exc:
        error_line(exc)
        return EXIT_USAGE
    pipes = "-" in inputs or getattr(args, "output", None) == "-"
    with _spool(pipes) as spool:
        run = _Run(spool=spool)
        token = _current.set(run)
        try:
            return _run_jobs(inputs, process, args, what, plan, shared_reads, run, started)
        finally:
            _current.reset(token)


def _run_jobs(inputs, process, args, what, plan, shared_reads, run: _Run, started: float) -> int:
    from tqdm import tqdm

    from ..outputs import plan_outputs

    quiet = getattr(args, "quiet", False)
    recursive = getattr(args, "recursive", False)
    given = list(inputs)
    if "-" in given:
        assert run.spool is not None  # a "-" input made the batch open its spool
        try:
            run.stdin = _read_stdin(run.spool, getattr(args, "max_pixels", None))
        except SkysegError as exc:
            error_line(exc)
            return EXIT_USAGE
        given = [str(run.stdin) if item == "-" else item for item in given]
    out_dir = getattr(args, "out_dir", None)
    entries = walk_inputs(given, recursive, skip=(out_dir,) if out_dir else ())
    if not entries:
        print("skyseg: error: no input images found", file=sys.stderr)
        return EXIT_USAGE
    if not recursive and not quiet:
        for item in given:
            nested = subfolders(item)
            if nested:
                print(
                    f"skyseg: note: {printable(item)}: {len(nested)} sub-folder(s) not read (add --recursive)",
                    file=sys.stderr,
                )
    run.folders = {entry.path: entry.folder for entry in reversed(entries)}  # first mention wins
    if out_dir:
        try:
            make_folder(out_dir, "--out-dir")
        except OutputError as exc:
            error_line(exc)
            return EXIT_USAGE
    jobs = []
    for path, _, error in entries:
        try:
            if error is not None:
                raise error
            jobs.append(plan(path) if plan is not None else Job(path))
        except SkysegError as exc:
            jobs.append(Job(path, error=exc))
    plan_outputs(jobs, shared_reads)
    refused = {  # settled here: never sent to a worker
        i: Outcome.of_error(job.error) for i, job in enumerate(jobs) if job.error is not None
    }
    skipped = {
        i
        for i, job in enumerate(jobs)
        if getattr(args, "skip_existing", False) and i not in refused and _all_exist(job)
    }
    todo = [job for i, job in enumerate(jobs) if i not in skipped and i not in refused]
    if getattr(args, "skip_existing", False):
        from ..io import remove_temporary_files

        for job in todo:  # what a batch stopped outright (SIGKILL, a power cut) left half written
            for output in job.outputs.values():
                remove_temporary_files(output)
    client = None
    if getattr(args, "cluster", None) is not None and todo:
        try:
            client = connect(args.cluster)
        except SkysegError as exc:
            error_line(exc)
            return EXIT_USAGE
    status = EXIT_OK
    done = failed = 0
    show = not quiet and len(entries) > 1 and sys.stderr.isatty()
    bar = tqdm(total=len(jobs), desc=what, unit="img", disable=not show)

    def attempt(job: Job) -> dict:
        _make_parents(job, args)
        try:
            with notes_as_lines(quiet):  # in a worker process too, which main() never ran in
                return process(job)
        except OSError as exc:  # a file system refusal no check foresaw: this input only
            raise InputError(exc.strerror or str(exc), exc.filename or job.source) from None

    worked = outcomes(
        todo,
        attempt,
        workers=getattr(args, "jobs", None) or usable_cores(),
        cluster=client,
        finished=bar.update,
    )
    try:
        for i, job in enumerate(jobs):
            if i in skipped:
                bar.update()
                if args.json:
                    record = {
                        "input": _shown(job.source, run),
                        "ok": True,
                        "skipped": "outputs exist",
                    }
                    print(json_line(record), flush=True)
                continue
            if i in refused:
                outcome = refused[i]
                bar.update()
            else:
                outcome = next(worked)
            if outcome.printed:
                sys.stderr.write(outcome.printed)
                sys.stderr.flush()
            if outcome.ok:
                if run.stdout is not None and run.stdout in job.outputs.values():
                    try:
                        _send_stdout(run.stdout)
                    except SkysegError as exc:
                        outcome = Outcome.of_error(exc)
            _show(job, outcome, args, run)
            if outcome.ok:
                done += 1
            else:
                failed += 1
                status = max(status, outcome.exit_code)
    finally:
        worked.close()  # now, not when collected: an interrupt stops the workers here
        bar.close()
        if client is not None:
            client.close()
    if show:
        print(
            f"skyseg: {what}: {done} done, {failed} failed"
            + (f", {len(skipped)} skipped" if skipped else "")
            + f", {time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
    return status


def _all_exist(job: Job) -> bool:
    """Whether every output of ``job`` is there (``--skip-existing``: written by an earlier run;
    outputs appear whole or not at all)."""
    return bool(job.outputs) and all(os.path.lexists(path) for path in job.outputs.values())


def _show(job: Job, outcome: Outcome, args: argparse.Namespace, run: _Run) -> None:
    """Print what came of one input: its error lines on stderr, its ``--json`` record."""
    for line in outcome.lines:  # one line per output that was not written
        error_line(_shown(line, run))
    if not args.json or not outcome.record:
        return
    if outcome.ok:
        assert outcome.report is not None  # a job that succeeded has its report
        record = {
            "input": _shown(job.source, run),
            "ok": True,
            **{k: _shown(v, run) if isinstance(v, str) else v for k, v in outcome.report.items()},
        }
    else:
        record = {
            "input": _shown(job.source, run),
            "ok": False,
            "error": _shown(outcome.error, run),
        }
        if outcome.done is not None:
            record["done"] = outcome.done
    print(json_line(record), flush=True)
