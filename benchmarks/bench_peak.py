"""Peak memory of each command in bytes per pixel: every `skyseg` command on one photo, each run
in its own child process.

    python -m benchmarks.bench_peak                            # 24 MP (6000x4000); writes benchmarks/peak.md
    python -m benchmarks.bench_peak --size 2000x1500 --no-write
    python -m benchmarks.bench_peak --only cutout,make-sky     # some commands; prints, writes nothing

Each command runs twice, on the photo and on a 64x48 one, and the figure is what the photo
adds: ``(peak RSS on the photo - peak RSS on the small one) / pixels``. The fixed cost (Python,
numpy, OpenCV, onnxruntime and the models: the small run's peak) is given beside it. Peak RSS is
the child's own ``VmHWM`` at exit (:func:`benchmarks.bench_memory.measure`): the rusage
``ru_maxrss`` of a child also counts the parent's memory at the fork. The photo is the bundled
sample upscaled, saved as a JPEG of quality 90 (and as a 16-bit TIFF for one cut-out); ``mask -``
reads it from standard input with a pixel limit of 10^12 (a limit far above any photo must cost
nothing until pixels arrive).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from .bench_memory import measure, skyseg
from .harness import ROOT, photo

RESULTS = Path(__file__).resolve().parent / "peak.md"
SIZE_24MP = (6000, 4000)
SMALL = (64, 48)
HUGE_LIMIT = str(10**12)


def commands(
    source: Path, deep: Path, folder: Path, size: tuple[int, int]
) -> dict[str, tuple[list, Path | None]]:
    """Command name -> (``skyseg`` arguments, the file to send on standard input or None);
    ``source`` is the JPEG photo, ``deep`` the same as a 16-bit TIFF."""
    out = folder / "out"
    return {
        "mask": (["mask", str(source), "-o", f"{out}_mask.png"], None),
        "mask - (stdin)": (
            ["mask", "-", "-o", f"{out}_stdin.png", "--max-pixels", HUGE_LIMIT],
            source,
        ),
        "cutout": (["cutout", str(source), "-o", f"{out}_cutout.png"], None),
        "cutout 16-bit TIFF": (["cutout", str(deep), "-o", f"{out}_cutout.tif"], None),
        "replace": (["replace", str(source), "-o", f"{out}_replaced.jpg"], None),
        "tint": (["tint", str(source), "-o", f"{out}_tinted.jpg"], None),
        "relight": (["relight", str(source), "-o", f"{out}_relit.jpg"], None),
        "make-sky": (
            ["make-sky", "golden_hour", "-o", f"{out}_sky.jpg", "--size", f"{size[0]}x{size[1]}"],
            None,
        ),
        "make-sky night": (
            ["make-sky", "night", "-o", f"{out}_night.jpg", "--size", f"{size[0]}x{size[1]}"],
            None,
        ),
    }


def run_peak(arguments: list[str], stdin: Path | None) -> dict:
    """One ``skyseg`` run (:func:`benchmarks.bench_memory.measure`), its output replaced."""
    return measure(skyseg(*arguments, "--overwrite"), stdin=stdin)


def failure(result: dict) -> str:
    lines = result["stderr"].splitlines()
    return f"exit {result['code']}: {lines[-1][:160] if lines else ''}"


def main(argv: list[str] | None = None) -> int:
    from skyseg_core.io import save_image

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_peak", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--size", default="x".join(map(str, SIZE_24MP)), metavar="WxH")
    parser.add_argument("--only", metavar="NAMES", help="comma-separated command names")
    parser.add_argument(
        "--no-write", action="store_true", help=f"print only; do not write {RESULTS.name}"
    )
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    pixels = size[0] * size[1]

    rows = []
    with tempfile.TemporaryDirectory(prefix="skyseg-peak-") as tmp:
        folder = Path(tmp)
        sources = {}
        for name, (w, h) in (("photo", size), ("small", SMALL)):
            sources[name] = (folder / f"{name}.jpg", folder / f"{name}16.tif")
            save_image(sources[name][0], photo(w, h), quality=90)
            save_image(sources[name][1], photo(w, h, dtype="uint16"))
        runs = commands(*sources["photo"], folder, size)
        fixed_runs = commands(*sources["small"], folder, SMALL)
        wanted = args.only.split(",") if args.only else list(runs)
        for name in wanted:
            (arguments, stdin), (fixed_arguments, fixed_stdin) = runs[name], fixed_runs[name]
            fixed, result = run_peak(fixed_arguments, fixed_stdin), run_peak(arguments, stdin)
            if fixed["code"] or result["code"]:
                why = failure(result if result["code"] else fixed)
                rows.append(f"| `{name}` | failed: {why} | | | |")
            else:
                per_pixel = (result["peak_mb"] - fixed["peak_mb"]) * 2**20 / pixels
                rows.append(
                    f"| `{name}` | {per_pixel:.1f} | {result['peak_mb']:.0f} | "
                    f"{fixed['peak_mb']:.0f} | {result['seconds']:.1f} |"
                )
            print(rows[-1], file=sys.stderr, flush=True)
    table = "\n".join(
        [
            "| command | bytes per pixel | peak RSS MB | fixed cost MB | seconds |",
            "|---|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print(table)
    if not args.no_write and not args.only:
        RESULTS.write_text(
            "# Peak memory per command\n\n"
            f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')} with `python -m benchmarks.bench_peak"
            f"{'' if size == SIZE_24MP else f' --size {args.size}'}` on {os.cpu_count()} CPUs: "
            f"a {size[0]}x{size[1]} JPEG ({pixels / 1e6:.0f} MP), default options. "
            "Bytes per pixel = (peak RSS of the command on the photo - its peak on a 64x48 photo, "
            "the fixed cost) / pixels; peak RSS is the child process's `VmHWM` at exit.\n\n"
            f"{table}\n"
        )
        print(f"\nwrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
