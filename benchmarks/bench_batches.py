"""Batch throughput: `skyseg mask` over 24 photos of 6 MP with --jobs 1, --jobs 2 and through a
local Dask cluster of two single-thread worker processes; peak memory per worker.

    python -m benchmarks.bench_batches             # writes benchmarks/batches.md
    python -m benchmarks.bench_batches --photos 8 --no-write

Each batch is the real command line in a child process (``python -m skyseg_core mask``), timed
from start to exit (interpreter start included); the three ways take turns, ``--repeat`` times
(default 2), and the fastest run of each counts (the machine may be shared). Peak memory per worker is the highest
``VmHWM`` (the kernel's peak resident set) of the processes that did the work: the command
itself with --jobs 1, its worker processes with --jobs 2, the Dask workers (asked through
``Client.run``) on the cluster. The cluster's start-up (scheduler and two workers) is timed on
its own, and its per-photo overhead is measured on tiny photos with the fast ``color`` method,
where nearly all the time is the scheduling: (cluster time - --jobs 2 time) / photos, on four
times as many photos as the main batch.
Needs the cluster extra (``pip install -e ".[cluster]"``).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .harness import ROOT, photo

SIZE_6MP = (3000, 2000)
"""(width, height): 6 megapixels, 3:2."""

RESULTS = Path(__file__).resolve().parent / "batches.md"


def _make_photos(folder: Path, count: int, size: tuple[int, int]) -> Path:
    from skyseg_core.io import save_image

    folder.mkdir(parents=True, exist_ok=True)
    base = photo(*size)
    for i in range(count):  # shifted copies: the same work per photo, distinct files
        save_image(folder / f"photo{i:03d}.jpg", np.roll(base, 37 * i, axis=1), quality=90)
    return folder


def _peak_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    """Every process below ``pid``: the workers are its grandchildren (under the fork server)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            direct = [int(p) for p in fh.read().split()]
    except OSError:
        return []
    return direct + [grandchild for child in direct for grandchild in _children(child)]


def run_batch(photos: Path, out: Path, *options: str) -> tuple[float, int]:
    """Wall seconds of one `skyseg mask` batch and the peak KiB of the process that worked
    hardest (the command, or its largest worker process)."""
    command = [sys.executable, "-m", "skyseg_core", "mask", str(photos), "--out-dir", str(out)]
    started = time.perf_counter()
    child = subprocess.Popen([*command, "--quiet", *options], cwd=ROOT)
    peaks: dict[int, int] = {}
    while child.poll() is None:
        for pid in _children(child.pid):
            peaks[pid] = max(peaks.get(pid, 0), _peak_kib(pid))
        peaks[child.pid] = max(peaks.get(child.pid, 0), _peak_kib(child.pid))
        time.sleep(0.05)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} {' '.join(options)}: exit {child.returncode}")
    workers = [peak for pid, peak in peaks.items() if pid != child.pid]
    return wall, max(workers) if workers else peaks.get(child.pid, 0)


def _worker_peak_kib() -> int:
    return _peak_kib(os.getpid())


def measure(count: int, repeat: int) -> list[tuple[str, str]]:
    folder = Path(tempfile.mkdtemp(prefix="skyseg-bench-batches-"))
    try:
        return _measure(folder, count, repeat)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _measure(folder: Path, count: int, repeat: int) -> list[tuple[str, str]]:
    import distributed

    rows: list[tuple[str, str]] = []
    photos = _make_photos(folder / "photos", count, SIZE_6MP)
    tiny = _make_photos(folder / "tiny", 4 * count, (96, 64))

    def batch_row(label: str, wall: float, peak: int, base: float | None = None) -> None:
        speed = f", {base / wall:.2f}x --jobs 1" if base else ""
        rows.append(
            (label, f"{wall:.1f} s, {count / wall:.2f} photos/s{speed}; peak {peak / 1024:.0f} MB")
        )
        print(label, rows[-1][1], flush=True)

    started = time.perf_counter()
    cluster = distributed.LocalCluster(
        host="127.0.0.1",
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    )
    start_up = time.perf_counter() - started
    rows.append(("Dask cluster start-up (scheduler + 2 workers)", f"{start_up:.1f} s"))
    try:
        address = cluster.scheduler_address
        ways = {"1": ["--jobs", "1"], "2": ["--jobs", "2"], "dask": ["--cluster", address]}
        best = {way: (float("inf"), 0) for way in ways}
        for attempt in range(repeat):  # taken in turns, so a change in the load hits them all
            for way, options in ways.items():
                wall, peak = run_batch(photos, folder / f"out_{way}_{attempt}", *options)
                best[way] = min(best[way], (wall, peak))
        with distributed.Client(address, set_as_default=False) as client:
            dask_peak = max(client.run(_worker_peak_kib).values())
        one = best["1"][0]
        batch_row(f"--jobs 1, {count} photos of 6 MP", *best["1"])
        batch_row(f"--jobs 2, {count} photos of 6 MP", *best["2"], one)
        batch_row(
            f"--cluster (2 workers x 1 thread), {count} photos of 6 MP",
            best["dask"][0],
            dask_peak,
            one,
        )
        local_tiny, _ = run_batch(tiny, folder / "tiny2", "--jobs", "2", "--method", "color")
        dask_tiny, _ = run_batch(tiny, folder / "tiny3", "--cluster", address, "--method", "color")
        rows.append(
            (
                f"--cluster overhead, {4 * count} photos of 96x64 (color)",
                f"{dask_tiny:.2f} s against {local_tiny:.2f} s with --jobs 2: "
                f"{(dask_tiny - local_tiny) / (4 * count) * 1000:.0f} ms per photo "
                "(connecting and sending the work included)",
            )
        )
        print(rows[-1], flush=True)
    finally:
        cluster.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs of each way; the fastest counts"
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    rows = measure(args.photos, args.repeat)
    load = os.getloadavg()
    lines = [
        "# Batch throughput (`python -m benchmarks.bench_batches`)",
        "",
        f"`skyseg mask` (default method), {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{len(os.sched_getaffinity(0))} usable cores, Python {platform.python_version()}. "
        f"The machine was shared with other work (load average {load[0]:.1f} at the end), "
        f"so the times are slower and noisier than on an idle machine; fastest of {args.repeat} "
        "runs each, taken in turns.",
        "",
        "| run | result |",
        "|---|---|",
        *[f"| {label} | {value} |" for label, value in rows],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        RESULTS.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
