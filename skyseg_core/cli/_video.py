"""Video clips and timelapse sequences on the command line: ``skyseg mask clip.mp4``,
``skyseg replace|tint|relight clip.mp4 -o out.mp4`` and ``--sequence FOLDER``.

``mask`` and the effect commands hand their run here when an input is a clip
(:data:`skyseg_core.video.VIDEO_EXTENSIONS`) or ``--sequence`` is given; the work is
:mod:`skyseg_core.clips`. Each clip or sequence is one unit: its outputs appear whole or not at
all, and one that fails prints one line and the run goes on to the next.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import EXIT_OK, InputError, OutputError, SkysegError
from ..io import path_kind
from ._common import error_line, json_line, printable, whole_number_argument

CRF_RANGE = (0, 51)
"""The constant rate factors ``--crf`` takes (x264 and VP9; lower is better), the editor's too."""
crf_argument = whole_number_argument(*CRF_RANGE)


def _drift(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected DX,DY (two numbers), got {text!r}") from None
    if not (abs(x) <= 1000 and abs(y) <= 1000):
        raise argparse.ArgumentTypeError(f"expected pixels a frame within 1000, got {text!r}")
    return x, y


def add_video_arguments(parser: argparse.ArgumentParser, effect: bool = False) -> None:
    """The options of clips and sequences (``effect``: also the sky's motion)."""
    group = parser.add_argument_group("video and timelapse")
    group.add_argument(
        "--sequence",
        action="store_true",
        help="read each folder as a timelapse: its photos, sorted by name, are consecutive "
        "frames (steady mattes; outputs keep the photos' names, in --out-dir or FOLDER_<tag>)",
    )
    group.add_argument(
        "--crf",
        type=crf_argument,
        default=None,
        metavar=f"{CRF_RANGE[0]}-{CRF_RANGE[1]}",
        help="video quality, lower is better (x264/VP9 constant rate factor; default 18 for "
        "edited clips, 0 = lossless for matte videos)",
    )
    group.add_argument(
        "--no-temporal",
        dest="temporal",
        action="store_false",
        default=True,
        help="decide each frame's matte on its own (default: steadied by the previous frames, "
        "aligned by their motion)",
    )
    if effect:
        group.add_argument(
            "--sky-motion",
            choices=("camera", "still"),
            default="camera",
            help="camera: the new sky moves with the camera (pans, tilts, zooms), so it stays "
            "attached to the scene; still: placed in each frame as in a photo (default camera)",
        )
        group.add_argument(
            "--sky-drift",
            type=_drift,
            default=(0.0, 0.0),
            metavar="DX,DY",
            help="drifting clouds: the new sky also moves by DX,DY pixels a frame (x right, "
            "y down; with --sky-motion camera; default 0,0)",
        )


def wants_video(args: argparse.Namespace) -> bool:
    """Whether this run is for clips or sequences."""
    from ..video import is_video_file

    return bool(getattr(args, "sequence", False)) or any(
        is_video_file(item) for item in args.inputs
    )


def _check_inputs(args: argparse.Namespace, refused: dict[str, object]) -> None:
    from ..video import is_video_file

    for option, value in refused.items():
        if value:
            raise OutputError(f"{option} is for photos; it does not go with a video or --sequence")
    if "-" in args.inputs:
        raise InputError("a video or sequence is read from a file, not from stdin (-)")
    if args.sequence:
        for item in args.inputs:
            if path_kind(item) != "folder":
                raise InputError("--sequence takes folders of photos", item)
    else:
        photos = [item for item in args.inputs if not is_video_file(item)]
        if photos:
            raise InputError(
                "give videos and photos in separate runs (or folders with --sequence)", photos[0]
            )
    if args.sequence and args.output is not None:
        raise OutputError("--sequence writes a folder of photos: give --out-dir, not -o")
    if args.output is not None and len(args.inputs) != 1:
        raise OutputError("-o names one output; with several inputs, give --out-dir")
    if args.output == "-":
        raise OutputError("a video's output is a file, not stdout (-)")


def _progress(args: argparse.Namespace, total: int | None, name: object):
    from tqdm import tqdm

    show = not args.quiet and sys.stderr.isatty()
    return tqdm(total=total, desc=printable(Path(str(name)).name), unit="frame", disable=not show)


def _finish(args, source: object, report: dict, seconds: float) -> None:
    if args.json:
        print(json_line({"input": str(source), "ok": True, **report}), flush=True)
    if not args.quiet:
        fps = report["frames"] / seconds if seconds > 0 else 0.0
        print(
            f"skyseg: {printable(source)}: {report['frames']} frames -> "
            f"{printable(report['output'])} ({fps:.2f} frames/s)",
            file=sys.stderr,
            flush=True,
        )


def _each(args, inputs, work) -> int:
    """Run ``work(item)`` per input; a failure is one line and the run goes on."""
    import time

    status = EXIT_OK
    for item in inputs:
        started = time.monotonic()
        try:
            report = work(item)
        except SkysegError as exc:
            error_line(exc)
            if args.json:
                print(json_line({"input": str(item), "ok": False, "error": str(exc)}), flush=True)
            status = max(status, exc.exit_code)
            continue
        _finish(args, item, report, time.monotonic() - started)
    return status


def _frames_total(item: str, max_pixels) -> int | None:
    from ..video import VideoReader

    with VideoReader(item, max_pixels) as clip:
        return clip.info.frames


def run_mask_video(args: argparse.Namespace) -> int:
    """``skyseg mask`` on clips (PNG folder or matte video) or sequences (PNG per photo)."""
    from ..clips import FrameMattes, mask_clip_to_folder, mask_clip_to_video, run_sequence
    from ..methods import resolve_name
    from ..pipeline import MatteSource
    from ..video import CONTAINERS

    try:
        _check_inputs(
            args, {"--name": args.name, "--for": args.host, "--recursive": args.recursive}
        )
        source = MatteSource(method=resolve_name(args.method), refine=args.refine)
        if args.output is not None and not args.sequence:
            if Path(args.output).suffix.lower() not in CONTAINERS:
                raise OutputError(
                    f"a clip's mattes go into a video ({', '.join(CONTAINERS)}) with -o, "
                    "or a folder of PNGs with --out-dir",
                    args.output,
                )
    except SkysegError as exc:
        error_line(exc)
        return exc.exit_code

    def work(item: str) -> dict:
        mattes = FrameMattes(source, args.temporal, args.max_pixels)
        if args.sequence:
            from ..clips import sequence_photos

            photos = sequence_photos(item)
            folder = _sequence_folder(args, item, "sky")
            outputs = [folder / f"{p.stem}.png" for p in photos]
            with _progress(args, len(photos), item) as bar:
                return run_sequence(
                    photos,
                    outputs,
                    mattes,
                    None,
                    args.overwrite,
                    None,
                    args.max_pixels,
                    lambda n: bar.update(1),
                )
        total = _frames_total(item, args.max_pixels)
        with _progress(args, total, item) as bar:
            if args.output is not None:
                return mask_clip_to_video(
                    item,
                    Path(args.output),
                    mattes,
                    args.crf,
                    args.overwrite,
                    args.max_pixels,
                    lambda n: bar.update(1),
                )
            stem = Path(item).stem
            folder = (
                Path(args.out_dir) / stem if args.out_dir else Path(item).with_name(f"{stem}_sky")
            )
            return mask_clip_to_folder(
                item, folder, mattes, args.overwrite, args.max_pixels, lambda n: bar.update(1)
            )

    if args.out_dir:
        try:
            _out_dir(args.out_dir)
        except SkysegError as exc:
            error_line(exc)
            return exc.exit_code
    return _each(args, args.inputs, work)


def _out_dir(value: str) -> None:
    from ._common import make_folder

    make_folder(value, "--out-dir")


def _sequence_folder(args, item: str, tag: str) -> Path:
    """Where a sequence's outputs go: --out-dir, or FOLDER_<tag> beside the folder."""
    if args.out_dir:
        return Path(args.out_dir)
    folder = Path(item).resolve()
    out = folder.with_name(f"{folder.name}_{tag}")
    if path_kind(out, OutputError) == "missing":
        try:
            out.mkdir()
        except OSError as exc:
            raise OutputError(f"cannot make the folder ({exc.strerror or exc})", out) from None
    return out


def _kept_name(photo: Path, tag: str) -> str:
    """A sequence's result keeps its photo's name; one whose format cannot be written (a
    camera RAW) gets the ending an edited photo of it gets (.tif)."""
    from ._effects import result_suffix

    suffix = result_suffix(photo, tag)
    if suffix == f"_{tag}{photo.suffix.lower()}":
        return photo.name
    return photo.stem + Path(suffix).suffix


def run_effect_video(args: argparse.Namespace, tag: str, variants: list) -> int:
    """An effect command on clips (an edited clip each) or sequences (an edited photo each)."""
    from ..clips import FrameMattes, FrameRenderer, render_clip, run_sequence, sequence_photos
    from ..methods import resolve_name
    from ..pipeline import MatteSource, SkyCache
    from ..video import CONTAINERS

    try:
        _check_inputs(
            args,
            {
                "--layers": args.layers,
                "--matte": args.matte,
                "--matte-out": args.matte_out,
                "--name": args.name,
                "--format": args.format,
                "--recursive": args.recursive,
            },
        )
        if len(variants) != 1:
            raise InputError("a video or sequence takes one sky; --all is for photos")
        source = MatteSource(method=resolve_name(args.method), refine=args.refine)
        if args.output is not None and not args.sequence:
            if Path(args.output).suffix.lower() not in CONTAINERS:
                raise OutputError(
                    f"an edited clip is written as {', '.join(CONTAINERS)}", args.output
                )
        if args.out_dir:
            _out_dir(args.out_dir)
    except SkysegError as exc:
        error_line(exc)
        return exc.exit_code
    steps = variants[0][1]
    skies = SkyCache(args.max_pixels)

    def work(item: str) -> dict:
        mattes = FrameMattes(source, args.temporal, args.max_pixels)
        renderer = FrameRenderer(
            steps, skies, getattr(args, "sky_motion", "still"), getattr(args, "sky_drift", (0, 0))
        )
        if args.sequence:
            photos = sequence_photos(item)
            folder = _sequence_folder(args, item, tag)
            outputs = [folder / _kept_name(photo, tag) for photo in photos]
            with _progress(args, len(photos), item) as bar:
                return run_sequence(
                    photos,
                    outputs,
                    mattes,
                    renderer,
                    args.overwrite,
                    args.quality,
                    args.max_pixels,
                    lambda n: bar.update(1),
                )
        path = Path(item)
        ext = path.suffix.lower() if path.suffix.lower() in CONTAINERS else ".mp4"
        if args.output is not None:
            output = Path(args.output)
        elif args.out_dir:
            output = Path(args.out_dir) / f"{path.stem}_{tag}{ext}"
        else:
            output = path.with_name(f"{path.stem}_{tag}{ext}")
        total = _frames_total(item, args.max_pixels)
        with _progress(args, total, item) as bar:
            return render_clip(
                item,
                output,
                mattes,
                renderer,
                args.crf,
                args.overwrite,
                args.max_pixels,
                lambda n: bar.update(1),
            )

    return _each(args, args.inputs, work)
