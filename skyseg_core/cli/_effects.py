"""What the effect commands (replace, tint, relight) share: matte source, side outputs, the loop."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import InputError, OutputError
from ..outputs import Job
from ._common import (
    add_method_argument,
    add_output_arguments,
    make_folder,
    output_path_for,
    run_batch,
)

_WRITABLE = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp")


def add_effect_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="photos or folders of photos")
    add_method_argument(parser)
    add_output_arguments(parser)
    parser.add_argument("--matte", metavar="FILE",
                        help="use this matte PNG (255 = sky) instead of segmenting, e.g. one refined by hand; "
                             "with several inputs, a folder of <stem>.png mattes")
    parser.add_argument("--layers", metavar="FILE.ora",
                        help="also write a layered OpenRaster file (GIMP, Krita); with several inputs, a folder")
    parser.add_argument("--matte-out", metavar="FILE.png",
                        help="also write the matte used as a PNG; with several inputs, a folder")


def side_path(value: str | None, source: Path, suffix: str, n_inputs: int) -> Path | None:
    """Where a side file (matte in or out, layers) for ``source`` is: the file, or a folder's <stem><suffix>."""
    if value is None:
        return None
    if not value:
        raise OutputError("an empty file or folder name was given")
    path = Path(value)
    if path.is_dir() or value.endswith(("/", "\\")):
        return path / f"{source.stem}{suffix}"
    if n_inputs != 1:
        raise OutputError(f"{value}: with several inputs, give a folder", value)
    return path


def result_suffix(source: Path, tag: str) -> str:
    """``_<tag>`` plus the input's extension when it can be written (else .png)."""
    ext = source.suffix.lower()
    return f"_{tag}{ext if ext in _WRITABLE else '.png'}"


def run_effect(args: argparse.Namespace, tag: str,
               apply: Callable[[np.ndarray, np.ndarray, bool], tuple[np.ndarray, list | None, dict]],
               shared_reads: tuple[Path, ...] = ()) -> int:
    """Run one effect over the inputs.

    ``apply(image, matte, want_layers)`` returns ``(result, layers or None, info)``;
    ``shared_reads`` are the files every input's effect reads (a sky image), never written.
    An input's outputs (result, layers, matte) are written all together or not at all.
    """
    from ..io import all_or_nothing, check_output, load_image, load_matte, save_image, save_matte
    from ..methods import resolve_name
    from ..ora import write_ora
    from ..segment import segment

    method = None if args.matte else resolve_name(args.method)
    for value, option in ((args.layers, "--layers"), (args.matte_out, "--matte-out")):
        if value and (Path(value).is_dir() or value.endswith(("/", "\\"))):
            make_folder(value, option)
    n_inputs = len(args.inputs)

    def plan(path: Path) -> Job:
        outputs = {"output": output_path_for(path, args, result_suffix(path, tag), n_inputs)}
        layers_path = side_path(args.layers, path, ".ora", n_inputs)
        if layers_path is not None:
            if layers_path.suffix.lower() != ".ora":
                raise OutputError("--layers writes OpenRaster; give a .ora file name", layers_path)
            outputs["layers"] = layers_path
        matte_out = side_path(args.matte_out, path, ".png", n_inputs)
        if matte_out is not None:
            outputs["matte"] = matte_out
        matte_in = side_path(args.matte, path, ".png", n_inputs)
        return Job(path, outputs, reads=(matte_in,) if matte_in is not None else ())

    def process(job: Job) -> dict:
        path = job.source
        target, layers_path, matte_out = (job.outputs.get(role) for role in ("output", "layers", "matte"))
        for out in job.outputs.values():
            check_output(out, overwrite=args.overwrite, source=path)  # fail before the work
        image = load_image(path, max_pixels=args.max_pixels)
        if job.reads:
            matte_path = job.reads[0]
            matte = load_matte(matte_path, max_pixels=args.max_pixels)
            if matte.shape != image.shape[:2]:
                raise InputError(f"matte is {matte.shape[1]}x{matte.shape[0]}, the photo "
                                 f"{image.shape[1]}x{image.shape[0]}; they must match", matte_path)
        else:
            matte = segment(image, method=method, refine=args.refine)
        result, layers, info = apply(image, matte, layers_path is not None)
        report = {"output": str(target), "method": method or "matte file", **info}
        with all_or_nothing():
            save_image(target, result, overwrite=args.overwrite, source=path)
            if layers_path is not None:
                write_ora(layers_path, layers, (image.shape[1], image.shape[0]), overwrite=args.overwrite,
                          merged=result)
                report["layers"] = str(layers_path)
            if matte_out is not None:
                save_matte(matte_out, matte, overwrite=args.overwrite, source=path)
                report["matte"] = str(matte_out)
        return report

    return run_batch(args.inputs, process, args, what=tag, plan=plan, shared_reads=shared_reads)


def shared_file(value: str | None) -> tuple[Path, ...]:
    """``(Path(value),)`` when an option names an existing file (a sky image), else ``()``."""
    return (Path(value),) if value and Path(value).is_file() else ()


def percent(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def pair(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y (two numbers 0..1), got {text!r}") from None
    return x, y
