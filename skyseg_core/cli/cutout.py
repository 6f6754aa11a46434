"""``skyseg cutout``: the photo with its sky transparent (RGBA PNG, TIFF or WebP), the registered
``cutout`` step (:mod:`skyseg_core.effects.steps.cutout`) through the pipeline."""

from __future__ import annotations

from pathlib import Path

from ..declare import controls
from ..effects.registry import STEPS
from ..effects.steps.cutout import CutoutParams
from ..errors import InputError, OutputError
from ..io import path_kind
from ..methods import resolve_name
from ..outputs import Job
from ..pipeline import ALPHA_SUFFIXES, MatteSource, load_photo, write_cutout
from ._common import run_batch
from ._inputs import output_path_for
from ._options import add_method_argument, add_output_arguments


def register(subparsers) -> None:
    step = STEPS["cutout"]
    parser = subparsers.add_parser(
        step.name,
        help=step.summary,
        description=f"{step.description} Named <stem>_{step.verb}.<ext> (the input's format if "
        "it has alpha, else PNG); EXIF, XMP and the ICC profile are kept; 16-bit stays 16-bit "
        "in PNG and TIFF.",
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="photos or folders of photos; - for stdin"
    )
    add_method_argument(parser)
    add_output_arguments(parser, formats=("png", "tif", "webp"))
    parser.add_argument(
        "--matte",
        metavar="FILE",
        help="use this matte PNG (255 = sky) instead of segmenting; with several inputs, a "
        "folder of <stem>.png mattes (as `skyseg mask --out-dir` writes them)",
    )
    parser.add_argument(
        "--no-decontaminate",
        dest="decontaminate",
        action="store_false",
        default=controls(CutoutParams)["decontaminate"][0].default,
        help="keep the photo's colours at soft edges (sky-tinted) instead of estimating the "
        "foreground's",
    )
    parser.set_defaults(func=run)


def _suffix(source: Path) -> str:
    ext = source.suffix.lower()
    return f"_cutout{ext if ext in ALPHA_SUFFIXES else '.png'}"


def run(args) -> int:
    # an unknown method fails once, here, before any input
    method = "auto" if args.matte else resolve_name(args.method)
    n_inputs = len(args.inputs)
    matte_folder = bool(args.matte) and (
        path_kind(args.matte) == "folder" or args.matte.endswith(("/", "\\"))
    )
    if args.matte and not matte_folder and n_inputs != 1:
        raise InputError(f"{args.matte}: with several inputs, give a folder of mattes", args.matte)

    def plan(path: Path) -> Job:
        target = output_path_for(path, args, _suffix(path), n_inputs, tag="cutout")
        if target.suffix.lower() not in ALPHA_SUFFIXES:
            raise OutputError(
                "a cut-out needs transparency: give a .png, .tif or .webp name", target
            )
        reads: tuple[Path, ...] = ()
        if args.matte:
            reads = (
                (Path(args.matte) / f"{path.stem}.png",) if matte_folder else (Path(args.matte),)
            )
        return Job(path, {"output": target}, reads=reads)

    def process(job: Job) -> dict:
        target = job.outputs["output"]
        assert job.source is not None  # plan() gives every job its input
        matte_source = MatteSource(
            method=method, refine=args.refine, file=job.reads[0] if job.reads else None
        )
        photo = load_photo(job.source, matte_source, (target,), args.overwrite, args.max_pixels)
        return write_cutout(
            photo,
            target,
            overwrite=args.overwrite,
            quality=args.quality,
            decontaminate=args.decontaminate,
        )

    return run_batch(args.inputs, process, args, what="cutouts", plan=plan)
