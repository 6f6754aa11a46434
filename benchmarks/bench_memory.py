"""Memory: peak RSS of `skyseg mask` on a 50 MP photo, and RSS over a 500-photo batch.

    python -m benchmarks.bench_memory            # the subprocess measurements; writes benchmarks/memory.md
    python -m benchmarks.bench_memory --photos 100 --no-write   # quicker

Each measurement runs the real command line (``skyseg_core.cli.main``) in a child process that
reports its own peak resident set size (``VmHWM``) when done; its RSS is sampled every 20 ms from
``/proc/<pid>/status`` together with the number of mattes written so far, so growth over a
batch shows as MB per 100 photos. ``python -m benchmarks.run`` also runs the in-process case
registered below (load + segment + save of the 50 MP photo), whose peak is in its table.

Target (issue 5): under 2 GB for a 50 MP photo; no growth over a 500-photo batch.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .harness import ROOT, case, photo

SIZE_50MP = (8660, 5773)
"""(width, height): 49.99 megapixels, 3:2."""

RESULTS = Path(__file__).resolve().parent / "memory.md"


@case("memory: load + segment + save_matte, 50 MP JPEG (in process)", repeat=1)
def segment_50mp_in_process():
    import skyseg_core as sky

    folder = Path(tempfile.mkdtemp(prefix="skyseg-bench-"))
    source = _photo_50mp(folder)
    target = folder / "matte.png"

    def work():
        matte = sky.segment(sky.load_image(source))
        sky.save_matte(target, matte, overwrite=True)

    return work


def _photo_50mp(folder: Path, suffix: str = ".jpg", dtype: str = "uint8") -> Path:
    from skyseg_core.io import save_image

    path = folder / f"photo50mp_{dtype}{suffix}"
    if not path.exists():
        save_image(path, photo(*SIZE_50MP, dtype=dtype), quality=90)
    return path


def _rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def measure(
    command: list[str],
    count_in: Path | None = None,
    interval: float = 0.02,
    stdin: Path | None = None,
) -> dict:
    """Run ``command``; return its exit status, wall time, peak RSS and RSS samples.

    ``count_in``: a folder whose ``*.png`` count is recorded with each sample (batch progress).
    ``stdin``: a file to send on its standard input (default: none).
    """
    hwm_file = Path(tempfile.mkstemp(prefix="skyseg-hwm-")[1])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SKYSEG_BENCH_HWM": str(hwm_file)}
    start = time.perf_counter()
    with open(stdin or os.devnull, "rb") as source:
        child = subprocess.Popen(
            command,
            stdin=source,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            cwd=ROOT,
        )
    samples: list[tuple[float, int, int]] = []  # (seconds, RSS KiB, outputs so far)
    last_count, last_scan = 0, 0.0
    while True:
        try:
            pid, status, _ = os.wait4(child.pid, os.WNOHANG)
        except ChildProcessError:
            break
        if pid:
            break
        now = time.perf_counter() - start
        rss = _rss_kib(child.pid)
        if count_in is not None and now - last_scan > 0.25:
            last_count, last_scan = sum(1 for _ in count_in.glob("*.png")), now
        if rss:
            samples.append((now, rss, last_count))
        time.sleep(interval)
    stderr = ""
    if child.stderr:
        with child.stderr:
            stderr = child.stderr.read().decode(errors="replace")
    child.returncode = os.waitstatus_to_exitcode(status)
    recorded = hwm_file.read_text().strip()
    hwm_file.unlink()
    sampled = max((rss for _, rss, _ in samples), default=0)
    return {
        "code": child.returncode,
        "seconds": time.perf_counter() - start,
        "peak_mb": (int(recorded) if recorded else sampled) / 1024,
        "sampled_peak_mb": sampled / 1024,
        "samples": samples,
        "stderr": stderr.strip(),
    }


_WRAPPER = (
    "import os, sys\n"
    "from skyseg_core.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "status = open('/proc/self/status').read()\n"
    "hwm = [l.split()[1] for l in status.splitlines() if l.startswith('VmHWM:')]\n"
    "open(os.environ['SKYSEG_BENCH_HWM'], 'w').write(hwm[0] if hwm else '')\n"
    "sys.exit(code)\n"
)
"""Runs the CLI like ``skyseg`` does, then records its own VmHWM (peak RSS of this process's
memory since exec). The rusage ``ru_maxrss`` of a child is no use here: Linux carries the
parent's peak across fork and exec, and this parent holds the 50 MP photo."""


def skyseg(*args: str) -> list[str]:
    return [sys.executable, "-c", _WRAPPER, *args]


def batch_growth(samples: list[tuple[float, int, int]], total: int) -> dict:
    """RSS at points of the batch, and the fitted slope in MB per 100 photos after the first 10%."""
    rows = [(count, rss / 1024) for _, rss, count in samples if count > 0]
    if not rows:
        return {}
    counts, rss = np.array(rows, dtype=float).T

    def at(fraction: float) -> float:
        index = np.searchsorted(counts, fraction * total)
        return float(rss[min(index, len(rss) - 1)])

    steady = counts >= 0.1 * total
    slope = (
        float(np.polyfit(counts[steady], rss[steady], 1)[0] * 100)
        if steady.sum() > 2
        else float("nan")
    )
    return {
        "at_10": at(0.1),
        "at_50": at(0.5),
        "at_100": float(rss[-1]),
        "max": float(rss.max()),
        "slope": slope,
    }


def make_batch(folder: Path, n: int, size: tuple[int, int] = (200, 150)) -> Path:
    """``n`` small JPEGs: crops of the sample photo at different places and scales."""
    import cv2

    from skyseg_core.io import save_image

    source = photo(1600, 1200)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        scale = rng.uniform(0.4, 1.0)
        w, h = int(1600 * scale), int(1200 * scale)
        x, y = rng.integers(0, 1600 - w + 1), rng.integers(0, 1200 - h + 1)
        crop = cv2.resize(
            np.ascontiguousarray(source[y : y + h, x : x + w]), size, interpolation=cv2.INTER_AREA
        )
        save_image(folder / f"photo{i:04d}.jpg", crop, quality=85)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_memory", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--photos", type=int, default=500, help="photos in the batch run (default 500)"
    )
    parser.add_argument(
        "--no-write", action="store_true", help=f"print only; do not write {RESULTS.name}"
    )
    args = parser.parse_args(argv)

    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="skyseg-mem-") as tmp:
        folder = Path(tmp)
        jpeg = _photo_50mp(folder)
        tiff16 = _photo_50mp(folder, ".tif", "uint16")
        runs = [
            (
                "`skyseg mask` 50 MP JPEG (auto, refined)",
                skyseg("mask", str(jpeg), "-o", str(folder / "a.png")),
            ),
            (
                "`skyseg mask` 50 MP JPEG, `--method color`",
                skyseg("mask", str(jpeg), "-o", str(folder / "b.png"), "--method", "color"),
            ),
            (
                "`skyseg mask` 50 MP JPEG, `--no-refine`",
                skyseg("mask", str(jpeg), "-o", str(folder / "c.png"), "--no-refine"),
            ),
            (
                "`skyseg mask` 50 MP 16-bit TIFF (auto, refined)",
                skyseg("mask", str(tiff16), "-o", str(folder / "d.png")),
            ),
        ]
        for label, command in runs:
            result = measure(command)
            status = (
                "ok" if result["code"] == 0 else f"exit {result['code']}: {result['stderr'][-200:]}"
            )
            rows.append(
                f"| {label} | {result['peak_mb']:.0f} | {result['seconds']:.1f} | {status} |"
            )
            print(rows[-1], file=sys.stderr, flush=True)

        batch = make_batch(folder / "batch", args.photos)
        out = folder / "mattes"
        out.mkdir()
        result = measure(skyseg("mask", str(batch), "--out-dir", str(out), "--quiet"), count_in=out)
        written = sum(1 for _ in out.glob("*.png"))
        growth = batch_growth(result["samples"], args.photos)
    table = "\n".join(
        [
            "| run | peak RSS MB | seconds | status |",
            "|---|---:|---:|---|",
            *rows,
        ]
    )
    batch_text = (
        f"`skyseg mask` over {args.photos} photos of 200x150 (auto, refined): exit {result['code']}, "
        f"{written} mattes in {result['seconds']:.0f} s; peak RSS {result['peak_mb']:.0f} MB; "
        f"RSS after 10% {growth.get('at_10', float('nan')):.0f} MB, after 50% {growth.get('at_50', float('nan')):.0f} MB, "
        f"at the end {growth.get('at_100', float('nan')):.0f} MB; fitted growth after the first 10%: "
        f"{growth.get('slope', float('nan')):+.2f} MB per 100 photos ({len(result['samples'])} samples)."
    )
    print(table)
    print()
    print(batch_text)
    if not args.no_write:
        RESULTS.write_text(
            "# Memory\n\n"
            f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')} with `python -m benchmarks.bench_memory"
            f"{'' if args.photos == 500 else f' --photos {args.photos}'}` on {os.cpu_count()} CPUs. "
            "Peak RSS of the `skyseg mask` child process (its `VmHWM` at exit); the 50 MP photo is "
            f"{SIZE_50MP[0]}x{SIZE_50MP[1]} (the bundled sample upscaled). Target: under 2 GB.\n\n"
            f"{table}\n\n{batch_text}\n"
        )
        print(f"\nwrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
