"""Run every benchmark case and write ``benchmarks/results.md``.

    python -m benchmarks.run [--filter TEXT] [--repeat N] [--no-write]

Cases come from the ``benchmarks/bench_*.py`` modules (see README.md). Each case runs in a fresh
child process: set-up (not timed), one warm-up run, then ``repeat`` timed runs; the median
is reported. Peak memory is the child's peak resident set size (VmHWM, reset after set-up, so it
counts the case's own work on top of its inputs; numpy and OpenCV allocations included, which
tracemalloc would miss). Times are also given as a ratio to the baseline case of the same run,
since a shared machine's speed drifts, and as CPU time (all threads), which other processes'
load inflates less than wall time.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.md"


def discover() -> list:
    """Import every ``bench_*.py`` module here and return the registered cases in order."""
    from .harness import registered_cases

    for path in sorted(HERE.glob("bench_*.py")):
        importlib.import_module(f"benchmarks.{path.stem}")
    return registered_cases()


# --------------------------------------------------------------------------------------------
# In the child process


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_kib() -> int:
    peak = _status_kib("VmHWM")
    if peak is None:  # not Linux: the lifetime peak (includes set-up)
        import resource

        scale = 1 if sys.platform != "darwin" else 1024
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // scale
    return peak


def run_one(case_id: str, repeat: int) -> dict:
    """Set up, warm up and time one case in this process; returns its measurements."""
    module, _, function = case_id.partition(":")
    importlib.import_module(f"benchmarks.{module}")
    from .harness import registered_cases

    case = next(c for c in registered_cases() if c.id == case_id)
    work = case.setup()
    import gc

    gc.collect()
    before = _status_kib("VmRSS") or 0
    reset = _reset_peak()
    work()  # warm-up (caches, lazy imports, thread pools)
    times, cpu = [], []
    for _ in range(case.repeat or repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        times.append((time.perf_counter() - start) * 1000.0)
        cpu.append((time.process_time() - start_cpu) * 1000.0)
    peak = _peak_kib()
    return {
        "id": case_id,
        "name": case.name,
        "ms": statistics.median(times),
        "ms_min": min(times),
        "cpu_ms": statistics.median(cpu),
        "runs": len(times),
        "rss_before_mb": before / 1024,
        "peak_mb": peak / 1024,
        "extra_mb": (peak - before) / 1024 if reset else None,
        "baseline": case.baseline,
    }


# --------------------------------------------------------------------------------------------
# In the parent


def run_case(case_id: str, repeat: int, timeout: float) -> dict:
    command = [sys.executable, "-m", "benchmarks.run", "--one", case_id, "--repeat", str(repeat)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=HERE.parent
        )
    except subprocess.TimeoutExpired:
        return {"id": case_id, "error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return {"id": case_id, "error": lines[-1] if lines else f"exit status {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _machine() -> str:
    try:
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    import cv2
    import numpy

    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {numpy.__version__}, OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads); "
        f"load average at start {load}"
    )


def table(results: list[dict]) -> str:
    base = next((r for r in results if r.get("baseline") and "ms" in r), None)
    lines = [
        "| case | ms (median) | ms (min) | x baseline | CPU ms | peak RSS MB | of which the case MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if "error" in r:
            name = r.get("name", r["id"])
            lines.append(f"| {name} | failed: {r['error']} | | | | | |")
            continue
        ratio = f"{r['ms'] / base['ms']:.2f}" if base else "-"
        extra = f"{r['extra_mb']:.0f}" if r["extra_mb"] is not None else "-"
        label = f"{r['name']} (baseline)" if r["baseline"] else r["name"]
        lines.append(
            f"| {label} | {r['ms']:.1f} | {r['ms_min']:.1f} | {ratio} | {r['cpu_ms']:.0f} | {r['peak_mb']:.0f} | {extra} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--filter",
        metavar="TEXT",
        help="only cases whose name or id contains TEXT (the baseline always runs)",
    )
    parser.add_argument(
        "--repeat", type=int, default=7, help="timed runs per case (default 7; median reported)"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds per case")
    parser.add_argument(
        "--no-write", action="store_true", help="print only; do not write results.md"
    )
    parser.add_argument("--write", action="store_true", help="write results.md even with --filter")
    parser.add_argument("--one", metavar="ID", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.repeat)))
        return 0

    cases = discover()
    if args.filter:
        text = args.filter.lower()
        cases = [c for c in cases if c.baseline or text in c.name.lower() or text in c.id.lower()]
    machine = _machine()
    print(f"{len(cases)} cases; {machine}", file=sys.stderr)
    results = []
    for case in cases:
        result = run_case(case.id, args.repeat, args.timeout)
        result.setdefault("name", case.name)
        result.setdefault("baseline", case.baseline)
        results.append(result)
        shown = (
            f"{result['ms']:.1f} ms, peak {result['peak_mb']:.0f} MB"
            if "ms" in result
            else result["error"]
        )
        print(f"  {case.name}: {shown}", file=sys.stderr, flush=True)
    text = table(results)
    print(text)
    if not args.no_write and (args.write or not args.filter):
        command = "python -m benchmarks.run" + (
            " " + " ".join(argv or sys.argv[1:]) if (argv or sys.argv[1:]) else ""
        )
        RESULTS.write_text(
            "# Benchmark results\n\n"
            f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')} with `{command}` (`make bench`).\n\n"
            f"Machine: {machine}.\n\n"
            "Median of the timed runs after one warm-up, each case in its own process. "
            '"x baseline" divides by the baseline row of the same run (the machine is shared and noisy); '
            '"CPU ms" is the process\'s CPU time per run (all threads), which load inflates less than wall time. '
            'Peak RSS is the whole process (Python, libraries, inputs); "of which the case" is the peak '
            "above the process's size after set-up, i.e. what the timed work itself allocated.\n\n"
            f"{text}\n"
        )
        print(f"\nwrote {RESULTS.relative_to(HERE.parent)}", file=sys.stderr)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
