"""What the effect commands (replace, tint, relight) share: options generated from the declared
parameters (:mod:`skyseg_core.effects.params`), the matte source, side outputs and the loop.

Each command only says which effect it runs; the work is :mod:`skyseg_core.pipeline`'s
:func:`~skyseg_core.pipeline.load_photo` and :func:`~skyseg_core.pipeline.write_rendered`.
"""

from __future__ import annotations

import argparse
import sys
import typing
from pathlib import Path

from ..errors import InputError, OutputError, PartsFailed, SkysegError
from ..io import check_output, path_kind
from ..outputs import Job, distinct_names
from ..raw import is_raw_file
from ._common import run_batch
from ._inputs import output_path_for
from ._lines import printable
from ._options import add_method_argument, add_output_arguments, make_folder

_WRITABLE = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp")


def option_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _pair(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y (two numbers), got {text!r}") from None
    return x, y


def _stops(text: str):
    from ..effects.params import parse_stops_text

    try:
        return parse_stops_text(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _shown(value) -> str:
    """A declared default as the user would type it."""
    from ..effects.params import stops_text

    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return stops_text(value)
    if isinstance(value, tuple):
        return ",".join(f"{x:g}" for x in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _option_kind(hint, ctl) -> dict:
    """argparse ``type``/``metavar``/``choices`` for a declared field."""
    if hint is float:
        return {"type": _number, "metavar": "PCT" if ctl.unit == "%" else (ctl.unit.upper() or "N")}
    if hint == tuple[float, float]:
        return {"type": _pair, "metavar": "X,Y"}
    if hint == tuple[tuple[float, str], ...]:
        return {"type": _stops, "metavar": "P:#RRGGBB,..."}
    if ctl.choices is not None:
        return {"choices": ctl.choices}
    return {"metavar": "NAME"}


def add_param_options(
    parser: argparse.ArgumentParser, cls, title: str, extra_help: dict[str, str] | None = None
) -> None:
    """One option per declared field of ``cls`` (name, range, unit, default and help from the
    declaration). Options left out stay unset, so a look or another default can fill them."""
    from ..effects.params import controls

    hints = typing.get_type_hints(cls)
    group = parser.add_argument_group(title)
    for name, (f, ctl) in controls(cls).items():
        hint = hints[name]
        text = ctl.help + (
            f" ({ctl.describe_range()})" if ctl.describe_range() and not ctl.choices else ""
        )
        text += (extra_help or {}).get(name, "")
        if f.default is not None and hint is not bool:
            text += f"; default {_shown(f.default)}"
        kwargs: dict[str, typing.Any] = {
            "dest": name,
            "default": argparse.SUPPRESS,
            "help": text.replace("%", "%%"),
        }
        if hint is bool:
            group.add_argument(option_name(name), action=argparse.BooleanOptionalAction, **kwargs)
        else:
            group.add_argument(option_name(name), **kwargs, **_option_kind(hint, ctl))


def given_params(args: argparse.Namespace, cls) -> dict:
    """The fields of ``cls`` the user set on the command line."""
    from ..effects.params import controls

    return {name: getattr(args, name) for name in controls(cls) if hasattr(args, name)}


def add_effect_arguments(parser: argparse.ArgumentParser) -> None:
    from ._video import add_video_arguments

    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="photos, folders of photos or video clips"
    )
    add_method_argument(parser)
    add_output_arguments(parser)
    parser.add_argument(
        "--matte",
        metavar="FILE",
        help="use this matte PNG (255 = sky) instead of segmenting, e.g. one refined by hand; "
        "with several inputs, a folder of <stem>.png mattes",
    )
    parser.add_argument(
        "--layers",
        metavar="FILE.ora|FILE.psd",
        help="also write a layered file: OpenRaster (.ora: GIMP, Krita) or Photoshop (.psd: also "
        "Photoshop, Affinity Photo, Photopea); with several inputs, a folder (.ora files, or "
        "add --layers-format psd)",
    )
    parser.add_argument(
        "--layers-format",
        choices=("ora", "psd"),
        default="ora",
        help="format of the layered files written into a --layers folder (default ora)",
    )
    parser.add_argument(
        "--matte-out",
        metavar="FILE.png",
        help="also write the matte used as a PNG; with several inputs, a folder",
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="a photo without sky is reported and skipped, and the run still exits 0 "
        "(default: exit status 3)",
    )
    add_video_arguments(parser, effect=True)


def side_path(value: str | None, source: Path, suffix: str, n_inputs: int) -> Path | None:
    """Where a side file (matte in or out, layers) for ``source`` is: the file, or a folder's <stem><suffix>."""
    if value is None:
        return None
    if not value:
        raise OutputError("an empty file or folder name was given")
    path = Path(value)
    if path_kind(path) == "folder" or value.endswith(("/", "\\")):
        return path / f"{source.stem}{suffix}"
    if n_inputs != 1:
        raise OutputError(f"{value}: with several inputs, give a folder", value)
    return path


def result_suffix(source: Path, tag: str) -> str:
    """``_<tag>`` plus the input's extension when it can be written, else .tif for a camera RAW
    (16 bits, never the RAW format itself) and .png for the rest."""
    ext = source.suffix.lower()
    if ext in _WRITABLE:
        return f"_{tag}{ext}"
    return f"_{tag}{'.tif' if is_raw_file(source) else '.png'}"


Variant = tuple[str, list]
"""(label of the output, the chain of effect steps); the label is a sky's file name, made into
a distinct output name part by :func:`skyseg_core.outputs.distinct_names`."""


def run_effect(args: argparse.Namespace, tag: str, variants: list[Variant]) -> int:
    """Run the effect chains ``variants`` over the inputs (one result per input and variant).

    With one variant the result is ``<stem>_<tag>.<ext>``; with several (``--all`` skies) each
    is ``<stem>_<tag>_<variant>.<ext>``, the variant names distinct (``a_jpg`` and ``a_png``
    for skies ``a.jpg`` and ``a.png``), layered files likewise; one side matte per photo.
    Each variant's outputs are written all together or not at all, as their own unit: one that
    fails (an unreadable sky, an existing output) costs that variant only, with one line, and
    the others are still written. A photo without sky is reported in one line and skipped
    (exit status 3 unless ``--keep-going``).
    """
    from ..effects import NoSkyError
    from ..methods import resolve_name
    from ..pipeline import MatteSource, SkyCache, load_photo, write_rendered
    from ._video import run_effect_video, wants_video

    if wants_video(args):
        return run_effect_video(args, tag, variants)
    method = None if args.matte else resolve_name(args.method)
    for value, option in ((args.layers, "--layers"), (args.matte_out, "--matte-out")):
        if value and (path_kind(value, OutputError) == "folder" or value.endswith(("/", "\\"))):
            make_folder(value, option)
    n_inputs = len(args.inputs) * len(variants)
    skies = SkyCache(args.max_pixels)
    several = len(variants) > 1
    names = distinct_names([label for label, _ in variants]) if several else [""]

    def named(suffix: str, variant: str) -> str:
        if not several:
            return suffix
        stem, _, ext = suffix.rpartition(".")
        return f"{stem}_{variant}.{ext}"

    def role(name: str, variant: str) -> str:
        return f"{name}:{variant}" if several else name

    def plan(path: Path) -> Job:
        outputs = {}
        for variant in names:
            outputs[role("output", variant)] = output_path_for(
                path, args, named(result_suffix(path, tag), variant), n_inputs
            )
            layers_path = side_path(
                args.layers, path, named(f".{args.layers_format}", variant), n_inputs
            )
            if layers_path is not None:
                if layers_path.suffix.lower() not in (".ora", ".psd"):
                    raise OutputError(
                        "--layers writes OpenRaster or Photoshop; give a .ora or .psd file name",
                        layers_path,
                    )
                outputs[role("layers", variant)] = layers_path
        matte_out = side_path(args.matte_out, path, ".png", len(args.inputs))
        if matte_out is not None:
            outputs["matte"] = matte_out
        matte_in = side_path(args.matte, path, ".png", len(args.inputs))
        return Job(path, outputs, reads=(matte_in,) if matte_in is not None else ())

    def process(job: Job) -> dict:
        units = []  # (variant, steps, its outputs)
        for variant, (_, steps) in zip(names, variants, strict=True):
            outputs = {
                kind: job.outputs[role(kind, variant)]
                for kind in ("output", "layers")
                if role(kind, variant) in job.outputs
            }
            units.append((variant, steps, outputs))
        failures: list[tuple[object, SkysegError]] = []

        def checked(unit) -> bool:  # a unit whose outputs cannot be written fails before the work
            try:
                for path in unit[2].values():
                    check_output(path, overwrite=args.overwrite, source=job.source)
            except SkysegError as exc:
                failures.append((unit[2]["output"], exc))
                return False
            return True

        if "matte" in job.outputs:  # the photo's own output: it fails the photo
            check_output(job.outputs["matte"], overwrite=args.overwrite, source=job.source)
        units = [unit for unit in units if checked(unit)]
        if not units and not several:
            raise failures[0][1]
        photo = None
        if units:
            matte_source = MatteSource(
                method=method or "auto",
                refine=args.refine,
                file=job.reads[0] if job.reads else None,
            )
            assert job.source is not None  # every job is planned from an input
            photo = load_photo(job.source, matte_source, max_pixels=args.max_pixels)
        reports: list[dict] = []
        for variant, steps, outputs in units:
            assert photo is not None  # loaded above: there are units
            if "matte" in job.outputs and not reports:  # with the first variant written
                outputs = {**outputs, "matte": job.outputs["matte"]}
            try:
                report = write_rendered(
                    photo,
                    steps,
                    outputs,
                    overwrite=args.overwrite,
                    skies=skies,
                    quality=getattr(args, "quality", None),
                )
            except NoSkyError as exc:  # the photo's matte: no variant can be made
                if not args.keep_going:
                    raise
                print(f"skyseg: {printable(exc)}", file=sys.stderr, flush=True)
                return {"skipped": "no sky", "sky_share": round(exc.share, 5)}
            except SkysegError as exc:
                if not several:
                    raise
                failures.append((outputs["output"], exc))
                continue
            reports.append({"variant": variant, **report} if several else report)
        done = {"outputs": reports} if several else reports[0]
        if failures:
            raise PartsFailed(failures, done)
        return done

    shared = skies.files([step for _, steps in variants for step in steps])
    return run_batch(args.inputs, process, args, what=tag, plan=plan, shared_reads=shared)
