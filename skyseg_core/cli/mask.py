"""``skyseg mask``: write a sky matte PNG per input."""

from __future__ import annotations

from pathlib import Path

from ..outputs import Job
from ._common import add_method_argument, add_output_arguments, output_path_for, run_batch

DEFAULT_NAMES = "<stem>_sky.png beside the input, <stem>.png in --out-dir"
"""Where mattes go by default: never onto the input (a PNG photo's matte beside it is
``<stem>_sky.png``), and in an output folder the names ``--matte DIR`` of the effect commands
reads back."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "mask",
        help="write a sky matte (8-bit PNG, 255 = sky) per photo",
        description=f"Write one 8-bit single-channel PNG per input, 255 = sky: {DEFAULT_NAMES} "
        "(or --name). - reads the photo from stdin; -o - writes the matte to stdout.",
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="photos or folders of photos; - for stdin"
    )
    add_method_argument(parser)
    add_output_arguments(parser, formats=("png",))
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..methods import resolve_name
    from ..pipeline import MatteSource, load_photo, write_rendered

    # an unknown method fails once, here, before any input
    matte_source = MatteSource(method=resolve_name(args.method), refine=args.refine)
    n_inputs = len(args.inputs)

    def plan(path: Path) -> Job:
        return Job(
            path,
            {"output": output_path_for(path, args, ".png", n_inputs, beside="_sky.png", tag="sky")},
        )

    def process(job: Job) -> dict:
        target = job.outputs["output"]
        assert job.source is not None  # plan() gives every job its input
        photo = load_photo(job.source, matte_source, (target,), args.overwrite, args.max_pixels)
        report = write_rendered(photo, [], {"matte": target}, overwrite=args.overwrite)
        return {  # the matte is this command's output
            "output": report["matte"],
            "method": report["method"],
            "sky_fraction": report["sky_fraction"],
        }

    return run_batch(args.inputs, process, args, what="masks", plan=plan)
