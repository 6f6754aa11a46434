"""``skyseg cutout``: the photo with its sky transparent (RGBA PNG, TIFF or WebP)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError, OutputError
from ..outputs import Job
from ._common import add_method_argument, add_output_arguments, output_path_for, run_batch

_ALPHA_FORMATS = (".png", ".tif", ".tiff", ".webp")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "cutout",
        help="write the photo with the sky transparent (RGBA PNG/TIFF/WebP)",
        description="Write each photo with its sky transparent: alpha = 1 - sky matte, the colours of "
        "soft edges freed of the sky's (blur-fusion foreground estimation). Named "
        "<stem>_cutout.<ext> (the input's format if it has alpha, else PNG); EXIF, XMP and "
        "the ICC profile are kept; 16-bit stays 16-bit in PNG and TIFF.",
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
        help="keep the photo's colours at soft edges (sky-tinted) instead of estimating the "
        "foreground's",
    )
    parser.set_defaults(func=run)


def _suffix(source: Path) -> str:
    ext = source.suffix.lower()
    return f"_cutout{ext if ext in _ALPHA_FORMATS else '.png'}"


def run(args) -> int:
    from ..cutout import cutout
    from ..io import check_output, load_image, load_matte, path_kind, read_metadata, save_image
    from ..methods import resolve_name
    from ..segment import segment

    method = None if args.matte else resolve_name(args.method)
    n_inputs = len(args.inputs)
    matte_folder = bool(args.matte) and (
        path_kind(args.matte) == "folder" or args.matte.endswith(("/", "\\"))
    )
    if args.matte and not matte_folder and n_inputs != 1:
        raise InputError(f"{args.matte}: with several inputs, give a folder of mattes", args.matte)

    def plan(path: Path) -> Job:
        target = output_path_for(path, args, _suffix(path), n_inputs, tag="cutout")
        if target.suffix.lower() not in _ALPHA_FORMATS:
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
        path, target = job.source, job.outputs["output"]
        assert path is not None  # plan() gives every job its input
        check_output(target, overwrite=args.overwrite, source=path)  # fail before the work
        image = load_image(path, max_pixels=args.max_pixels)
        if job.reads:
            matte = load_matte(job.reads[0], max_pixels=args.max_pixels)
            if matte.shape != image.shape[:2]:
                raise InputError(
                    f"matte is {matte.shape[1]}x{matte.shape[0]}, the photo "
                    f"{image.shape[1]}x{image.shape[0]}; they must match",
                    job.reads[0],
                )
        else:
            assert method is not None  # resolved above whenever no --matte is given
            matte = segment(image, method=method, refine=args.refine)
        rgba = cutout(image, matte, decontaminate=args.decontaminate)
        sky_fraction = round(float(matte.mean()), 4)
        del image, matte  # the encoder's buffers come on top of the cut-out alone
        save_image(
            target,
            rgba,
            overwrite=args.overwrite,
            quality=args.quality,
            source=path,
            metadata=read_metadata(path, max_pixels=args.max_pixels),
        )
        return {
            "output": str(target),
            "method": method or "matte file",
            "sky_fraction": sky_fraction,
        }

    return run_batch(args.inputs, process, args, what="cutouts", plan=plan)
