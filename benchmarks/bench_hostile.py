"""Hostile inputs: decode time and peak memory of every corpus case through ``load_image``.

    python -m benchmarks.bench_hostile              # every case of tests/corpus.py; writes benchmarks/hostile.md
    python -m benchmarks.bench_hostile --filter 14000 --no-write

Each case runs in its own child process: the case is laid out (not measured), the kernel's
peak-RSS mark is reset (``/proc/self/clear_refs``), then ``skyseg_core.load_image`` runs once.
The table gives the wall time of that call and how much it raised the peak resident memory
above what the process held before (imports, the laid-out case), for the refused cases and for
the slowest ones. Targets (issue 13): no hostile file takes more than a few seconds, and a
refusal costs no more memory than a small photo.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .harness import ROOT

RESULTS = Path(__file__).resolve().parent / "hostile.md"

_CHILD = """
import json, os, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
import skyseg_core as sky
from tests.corpus import CASES

def vm(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
case = next(c for c in CASES if c.name == sys.argv[1])
job = case.prepare(Path(sys.argv[2]))
for key, value in job.env.items():
    os.environ[key] = value
sky.load_image  # imported; decoders load on first use, so warm them on a tiny photo
from tests.corpus import _good_png
(Path(sys.argv[2]) / "warm.png").write_bytes(_good_png())
sky.load_image(Path(sys.argv[2]) / "warm.png")
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
before = vm("VmRSS:")
start = time.perf_counter()
try:
    sky.load_image(job.input, max_pixels=job.max_pixels)
    outcome = "loaded"
except sky.SkysegError as exc:
    outcome = type(exc).__name__
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "peak_added": vm("VmHWM:") - before, "outcome": outcome}}))
"""


def measure(name: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="skyseg-hostile-") as folder:
        code = _CHILD.format(root=str(ROOT))
        result = subprocess.run(
            [sys.executable, "-c", code, name, folder],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        if result.returncode != 0:
            return {
                "seconds": float("nan"),
                "peak_added": 0,
                "outcome": f"crashed: {result.stderr[-200:]}",
            }
        return json.loads(result.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filter", default="", help="only cases whose name contains this")
    parser.add_argument(
        "--no-write", action="store_true", help="print, do not write benchmarks/hostile.md"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from tests.corpus import CASES

    rows = []
    for case in CASES:
        if args.filter in case.name and case.make is not None:
            row = {"name": case.name, "expect": case.expect, **measure(case.name)}
            rows.append(row)
            print(
                f"{row['seconds'] * 1000:9.1f} ms {row['peak_added'] / 2**20:8.1f} MB  {row['outcome']:<20} "
                f"{case.name!r}",
                flush=True,
            )
    refused = [r for r in rows if r["outcome"] != "loaded"]
    lines = [
        "# Hostile inputs (`python -m benchmarks.bench_hostile`)",
        "",
        f"{len(rows)} corpus cases through `load_image`, each in its own process; {len(refused)} refused.",
        "",
        f"- longest call: {max(r['seconds'] for r in rows) * 1000:.0f} ms "
        f"({max(rows, key=lambda r: r['seconds'])['name']!r})",
        f"- largest peak added by a refusal: {max(r['peak_added'] for r in refused) / 2**20:.1f} MB "
        f"({max(refused, key=lambda r: r['peak_added'])['name']!r})"
        if refused
        else "- no refusals",
        "",
        "| case | expected | outcome | ms | peak added MB |",
        "|---|---|---|---:|---:|",
    ]
    shown = sorted(rows, key=lambda r: (-r["peak_added"], -r["seconds"]))
    for r in shown:
        name = r["name"].encode("unicode_escape").decode()
        lines.append(
            f"| `{name}` | {r['expect']} | {r['outcome']} | {r['seconds'] * 1000:.1f} | "
            f"{r['peak_added'] / 2**20:.1f} |"
        )
    text = "\n".join(lines) + "\n"
    print("\n".join(lines[:7]))
    if not args.no_write and not args.filter:
        RESULTS.write_text(text, encoding="utf-8")
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
