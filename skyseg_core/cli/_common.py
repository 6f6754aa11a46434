"""What the sub-commands share: method and output options, and the per-input batch loop."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from ..errors import InputError, OutputError, SkysegError
from ..io import expand_inputs
from ..outputs import Job

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2

TRAIN_EXTRA = ("torch", "torchvision", "segmentation_models_pytorch", "albumentations", "onnx", "sklearn", "matplotlib")
"""Modules of the ``train`` extra (pyproject.toml) that training needs."""


def printable(text: object) -> str:
    """``text`` safe for a terminal line: control characters (newline, ESC of ANSI sequences,
    C1 codes) and undecodable bytes of file names shown as escapes, never sent raw."""
    out = []
    for char in str(text):
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x20 or 0x7F <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def error_line(message: object) -> None:
    """Print one ``skyseg: error:`` line on stderr (see :func:`printable`)."""
    print(f"skyseg: error: {printable(message)}", file=sys.stderr, flush=True)


def require_modules(command: str, modules=TRAIN_EXTRA) -> None:
    """One clear error naming the extra when ``command`` would fail later on a missing import."""
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(f"{command} needs the train extra (pip install 'skyseg[train]'); missing: {', '.join(missing)}")


def add_method_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--method", default="auto", metavar="NAME",
                        help="sky method (see `skyseg methods`; default: auto, the best shipped one)")
    parser.add_argument("--no-refine", dest="refine", action="store_false",
                        help="skip edge-aware refinement; write the method's raw matte")


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-o", "--output", metavar="FILE", help="output file (one input only)")
    group.add_argument("--out-dir", metavar="DIR", help="folder for outputs, named after each input")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    parser.add_argument("--max-pixels", type=int, default=None, metavar="N",
                        help="refuse images with more pixels (default: SKYSEG_MAX_PIXELS or 200 MP)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per input on stdout")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def output_path_for(source: Path, args: argparse.Namespace, suffix: str, n_inputs: int) -> Path:
    """Where the output for ``source`` goes: ``-o``, else ``--out-dir/<stem><suffix>``, else beside it.

    Whether it may be written is decided for the whole run by :func:`run_batch`'s plan.
    """
    if args.output is not None:
        if n_inputs != 1:
            raise OutputError("-o/--output takes one input; use --out-dir for several")
        return file_argument(args.output, "-o/--output")
    folder = Path(args.out_dir) if args.out_dir else source.parent
    return folder / f"{source.stem}{suffix}"


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
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{option} is a file, not a folder", folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the {option} folder ({exc.strerror or exc})", folder) from None


def run_batch(inputs: list[str], process: Callable[[Job], dict], args: argparse.Namespace, what: str = "images",
              plan: Callable[[Path], Job] | None = None, shared_reads: tuple[Path, ...] = ()) -> int:
    """Run ``process`` on each input (files, or folders of images) with a progress bar.

    ``plan(path)`` says what each input reads and writes (default: nothing); every output of the
    batch is planned before any is written (:func:`skyseg_core.outputs.plan_outputs`), and an
    input whose output would destroy an input, a side input or another output is refused. A
    :class:`SkysegError` on one input prints one line on stderr and the batch goes on.
    Returns the exit status: 0 if all succeeded, else the worst failure's code.
    """
    from tqdm import tqdm

    from ..outputs import plan_outputs

    paths = expand_inputs(inputs)
    if not paths:
        print("skyseg: error: no input images found", file=sys.stderr)
        return EXIT_USAGE
    if args.out_dir:
        try:
            make_folder(args.out_dir, "--out-dir")
        except OutputError as exc:
            error_line(exc)
            return EXIT_USAGE
    jobs = []
    for path in paths:
        try:
            jobs.append(plan(path) if plan is not None else Job(path))
        except SkysegError as exc:
            jobs.append(Job(path, error=exc))
    plan_outputs(jobs, shared_reads)
    status = EXIT_OK
    show = not args.quiet and len(paths) > 1 and sys.stderr.isatty()
    for job in tqdm(jobs, desc=what, unit="img", disable=not show):
        path = job.source
        try:
            if job.error is not None:
                raise job.error
            result = process(job)
            if args.json:
                print(json.dumps({"input": str(path), "ok": True, **result}), flush=True)
        except SkysegError as exc:
            status = max(status, exc.exit_code)
            error_line(exc)
            if args.json:
                print(json.dumps({"input": str(path), "ok": False, "error": str(exc)}), flush=True)
        except MemoryError:
            status = max(status, EXIT_INTERNAL)
            error_line(f"{path}: out of memory")
    return status
