"""``skyseg mask``: write a sky matte PNG per input."""

from __future__ import annotations

from pathlib import Path

from ..outputs import Job
from ._common import add_method_argument, add_output_arguments, output_path_for, run_batch


def register(subparsers) -> None:
    parser = subparsers.add_parser("mask", help="write a sky matte (8-bit PNG, 255 = sky) per photo",
                                   description="Write one 8-bit single-channel PNG per input, named <input stem>.png, 255 = sky.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="photos or folders of photos")
    add_method_argument(parser)
    add_output_arguments(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..io import check_output, load_image, save_matte
    from ..methods import resolve_name
    from ..segment import segment

    method = resolve_name(args.method)  # an unknown name fails once, before any input
    n_inputs = len(args.inputs)

    def plan(path: Path) -> Job:
        return Job(path, {"output": output_path_for(path, args, ".png", n_inputs)})

    def process(job: Job) -> dict:
        path, target = job.source, job.outputs["output"]
        check_output(target, overwrite=args.overwrite, source=path)  # fail before the work
        image = load_image(path, max_pixels=args.max_pixels)
        matte = segment(image, method=method, refine=args.refine)
        save_matte(target, matte, overwrite=args.overwrite, source=path)
        return {"output": str(target), "method": method, "sky_fraction": round(float(matte.mean()), 4)}

    return run_batch(args.inputs, process, args, what="masks", plan=plan)
