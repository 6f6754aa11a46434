"""``skyseg mask``: write a sky matte PNG per input."""

from __future__ import annotations

from pathlib import Path

from ..errors import OutputError
from ..outputs import Job
from ._common import run_batch
from ._inputs import output_path_for
from ._options import add_method_argument, add_output_arguments
from ._video import add_video_arguments, run_mask_video, wants_video

DEFAULT_NAMES = "<stem>_sky.png beside the input, <stem>.png in --out-dir"
"""Where mattes go by default: never onto the input (a PNG photo's matte beside it is
``<stem>_sky.png``), and in an output folder the names ``--matte DIR`` of the effect commands
reads back."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "mask",
        help="write a sky matte (8-bit PNG, 255 = sky) per photo",
        description=f"Write one 8-bit single-channel PNG per input, 255 = sky: {DEFAULT_NAMES} "
        "(or --name). - reads the photo from stdin; -o - writes the matte to stdout. A video "
        "clip's mattes go to DIR/<stem>/000001.png ... (--out-dir; <stem>_sky/ beside it by "
        "default) or a matte video (-o clip_sky.mkv).",
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="photos, folders of photos or video clips; - for stdin",
    )
    add_method_argument(parser)
    add_output_arguments(parser, formats=("png",))
    parser.add_argument(
        "--for",
        dest="host",
        choices=("darktable",),
        help="write the matte where and how a host reads it. darktable: for its external raster "
        "masks module, <photo name>.pfm (float RGB, in the photo file's stored orientation: a "
        "RAW's sensor orientation) in the raster masks folder (--darktable-dir)",
    )
    parser.add_argument(
        "--darktable-dir",
        metavar="DIR",
        help="darktable's raster masks folder (default: the one darktablerc names, "
        "plugins/darkroom/segments/def_path)",
    )
    add_video_arguments(parser)
    parser.set_defaults(func=run)


def _darktable_folder(args) -> Path:
    """The raster masks folder of ``--for darktable``; usage errors as :class:`OutputError`."""
    from ..darktable import RASTER_FOLDER_KEY, configured_folder, darktablerc

    taken = [
        option
        for option, value in (
            ("-o", args.output),
            ("--out-dir", args.out_dir),
            ("--name", args.name),
            ("--format", args.format),
        )
        if value is not None
    ]
    if taken:
        raise OutputError(f"--for darktable names its outputs itself; drop {', '.join(taken)}")
    if "-" in args.inputs:
        raise OutputError("--for darktable names each mask after its photo file; give files, not -")
    if args.darktable_dir:
        return Path(args.darktable_dir)
    folder = configured_folder()
    if folder is None:
        raise OutputError(
            f"no raster masks folder: give --darktable-dir, or set one in darktable "
            f"({darktablerc()} has no {RASTER_FOLDER_KEY})"
        )
    return folder


def run(args) -> int:
    from ..darktable import raster_mask_name, stored_orientation, write_raster_mask
    from ..methods import resolve_name
    from ..pipeline import MatteSource, load_photo, sky_fraction, write_rendered

    if wants_video(args):
        return run_mask_video(args)
    # an unknown method fails once, here, before any input
    matte_source = MatteSource(method=resolve_name(args.method), refine=args.refine)
    n_inputs = len(args.inputs)
    if args.darktable_dir and args.host != "darktable":
        raise OutputError("--darktable-dir goes with --for darktable")
    darktable_folder = _darktable_folder(args) if args.host == "darktable" else None

    def plan(path: Path) -> Job:
        if darktable_folder is not None:
            return Job(path, {"output": darktable_folder / raster_mask_name(path)})
        return Job(
            path,
            {"output": output_path_for(path, args, ".png", n_inputs, beside="_sky.png", tag="sky")},
        )

    def process(job: Job) -> dict:
        target = job.outputs["output"]
        assert job.source is not None  # plan() gives every job its input
        photo = load_photo(job.source, matte_source, (target,), args.overwrite, args.max_pixels)
        if darktable_folder is not None:
            orientation = stored_orientation(job.source)
            write_raster_mask(target, photo.matte, orientation, args.overwrite, job.source)
            return {
                "output": str(target),
                "method": photo.method,
                "sky_fraction": sky_fraction(photo.matte),
            }
        report = write_rendered(photo, [], {"matte": target}, overwrite=args.overwrite)
        return {  # the matte is this command's output
            "output": report["matte"],
            "method": report["method"],
            "sky_fraction": report["sky_fraction"],
        }

    return run_batch(args.inputs, process, args, what="masks", plan=plan)
