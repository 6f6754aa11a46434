"""The options the sub-commands share, declared once: the matte source (``--method``,
``--no-refine``), where outputs go and how they are named, format and quality, the pixel limit
and where a batch runs; and the checks of file and folder names given on the command line."""

from __future__ import annotations

import argparse
import importlib.util
import string
from collections.abc import Callable
from pathlib import Path

from ..declare import controls
from ..errors import InputError, OutputError
from ..io import path_kind
from ..pipeline import MatteSource

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


def require_modules(command: str, modules=TRAIN_EXTRA) -> None:
    """One clear error naming the extra when ``command`` would fail later on a missing import."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(
            f"{command} needs the train extra (pip install 'skyseg[train]'); missing: {', '.join(missing)}"
        )


def add_method_argument(parser: argparse.ArgumentParser) -> None:
    """``--method`` and ``--no-refine``, from the matte source's declaration
    (:class:`skyseg_core.pipeline.MatteSource`)."""
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


FORMAT_OF_SUFFIX = {
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


def check_name_template(template: str) -> None:
    """Raise :class:`OutputError` for a ``--name`` that cannot name files."""
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
    create_folder(folder, f"the {option} folder")


def create_folder(folder: Path, what: str, named: Path | None = None) -> None:
    """Create ``folder`` and its parents, or one :class:`OutputError` line "cannot create
    ``what`` (why)" naming ``named`` (default the folder)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create {what} ({exc.strerror or exc})", named or folder
        ) from None
