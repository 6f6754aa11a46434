"""``skyseg export-ade20k``: turn ADE20K parser weights (CSAIL checkpoints or TF DeepLab's .tflite)
into one ONNX sky-probability model."""

from __future__ import annotations

import json

from ..errors import InputError
from ..methods.ade20k_export import export_ade20k_onnx
from ._options import require_modules


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export-ade20k",
        help="export ADE20K scene-parser weights to an ONNX sky model (needs torch)",
        description=(
            "Export the CSAIL semantic-segmentation-pytorch checkpoints in WEIGHTS_DIR "
            "(encoder_epoch_<N>.pth, decoder_epoch_<N>.pth), or TF DeepLab's ADE20K .tflite "
            "file, to one ONNX file whose output is the "
            "sky probability at the input size; the `ade20k` method then runs it with ONNX Runtime "
            "(weights_dir=FILE.onnx or SKYSEG_ADE20K_DIR=FILE.onnx), without torch."
        ),
    )
    parser.add_argument(
        "weights_dir",
        metavar="WEIGHTS_DIR",
        help="checkpoint folder (or a folder of model folders), or a TF DeepLab .tflite file",
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="FILE.onnx", help="ONNX file to write"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument(
        "--arch",
        default=None,
        metavar="ENC-DEC",
        help="architecture, e.g. resnet50dilated-ppm_deepsup (default: read from the checkpoints)",
    )
    parser.add_argument(
        "--short-side",
        type=int,
        default=384,
        metavar="PX",
        help="working shorter side recorded in the metadata (default 384)",
    )
    parser.add_argument(
        "--max-long-side",
        type=int,
        default=1000,
        metavar="PX",
        help="cap on the working longer side recorded in the metadata (default 1000)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.set_defaults(func=run)


def run(args) -> int:
    if args.short_side < 8 or args.max_long_side < 8:
        raise InputError("--short-side and --max-long-side must be at least 8")
    require_modules("skyseg export-ade20k", ("torch", "onnx"))
    info = export_ade20k_onnx(
        args.weights_dir,
        args.output,
        overwrite=args.overwrite,
        arch=args.arch,
        short_side=args.short_side,
        max_long_side=args.max_long_side,
    )
    if args.json:
        print(json.dumps(info))
    else:
        print(
            f"wrote {info['output']} ({info['arch']}, {info['bytes'] / 1e6:.1f} MB; "
            f"PyTorch vs ONNX max |diff| {info['max_abs_diff']:.2g})"
        )
    return 0
