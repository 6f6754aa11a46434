"""``skyseg export CHECKPOINT -o FILE.onnx``: turn a training checkpoint into the ``unet`` model file."""

from __future__ import annotations

import json

from ._options import file_argument, require_modules


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a training checkpoint to ONNX for the unet method (needs the train extra)",
        description="Write the checkpoint's network as ONNX with its preprocessing in the metadata, "
        "plus a .sha256 sidecar that pins it.",
    )
    parser.add_argument(
        "checkpoint", metavar="CHECKPOINT", help="last.pt or best.pt from skyseg train"
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="the .onnx file to write"
    )
    parser.add_argument(
        "--working-size",
        type=int,
        metavar="N",
        help="longer side the unet method shrinks photos to (default: the training cache's)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing file")
    parser.add_argument("--json", action="store_true", help="print the metadata written as JSON")
    parser.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from ..errors import InputError
    from ..outputs import Job, plan_one

    # -o onto the checkpoint itself (or a link to it) would destroy it, --overwrite or not
    plan_one(Job(Path(args.checkpoint), {"output": file_argument(args.output, "-o/--output")}))
    require_modules("skyseg export", ("torch", "segmentation_models_pytorch", "onnx"))
    from ..io import path_kind
    from ..train.export import export_onnx

    if path_kind(args.checkpoint) != "file":
        raise InputError("checkpoint not found", args.checkpoint)
    try:
        meta = export_onnx(
            args.checkpoint, args.output, working_size=args.working_size, overwrite=args.overwrite
        )
    except (KeyError, RuntimeError, EOFError) as exc:
        raise InputError(
            f"not a skyseg training checkpoint ({type(exc).__name__}: {exc})", args.checkpoint
        ) from None
    except Exception as exc:
        if type(exc).__name__ == "UnpicklingError":
            raise InputError(f"not a loadable checkpoint ({exc})", args.checkpoint) from None
        raise
    if args.json:
        print(json.dumps(meta))
    else:
        print(f"{args.output}: {meta['bytes'] / 1e6:.2f} MB, sha256 {meta['sha256']}")
    return 0
