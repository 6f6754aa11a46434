"""One editor export of a 24 MP photo, without the window, for a profiler (where the time goes).

``py-spy record -r 50 -f raw -o export.txt -- python -m benchmarks.profile_export jpg`` (or
``tif``, ``png``, ``psd``, ``ora``): the photo, matte (``color``) and sky as in
``bench_export.py``; the export function the editor's job runs (:mod:`effects_gui.pipeline`).
``python -m benchmarks.profile_export --summary export.txt`` then prints each function's share
of the export's samples (inclusive), largest first.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np


class _Job:
    """What the export functions need of a job: progress reports (none here)."""

    def report(self, percent: int, message: str = "") -> None:
        pass


def summary(raw: Path, within: str = "_write", top: int = 25) -> list[tuple[float, str]]:
    """(share, function) of py-spy's raw (collapsed) stacks that pass through ``within``."""
    import collections

    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = [f.split(" (")[0] + " (" + Path(f.split(" (")[1].split(":")[0]).name + ")"
                  for f in stack.split(";") if " (" in f]  # fmt: skip
        if not any(f.startswith(within + " ") for f in frames):
            continue
        total += int(n)
        for name in set(frames):
            counts[name] += int(n)
    return [(c / max(total, 1), name) for name, c in counts.most_common(top)]


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if args[:1] == ["--summary"]:
        for share, name in summary(Path(args[1]), top=int(args[2]) if len(args) > 2 else 25):
            print(f"{100 * share:5.1f} %  {name}")
        return 0
    from benchmarks.harness import photo
    from effects_gui import pipeline
    from skyseg_core.effects.params import ReplaceParams
    from skyseg_core.pipeline import MatteSource, find_matte
    from skyseg_core.skygen import load_sky

    fmt = (args or ["jpg"])[0]
    image = np.array(photo(6000, 4000))
    matte, _ = find_matte(image, MatteSource("color"))
    steps, skies = [ReplaceParams(sky="golden_hour")], {"golden_hour": load_sky("golden_hour")}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"export.{fmt}"
        start = time.perf_counter()
        if fmt in ("psd", "ora"):
            pipeline.export_layers(_Job(), out, image, matte, [], steps, skies)
        else:
            pipeline.export_result(_Job(), out, image, matte, [], steps, skies, None, 90)
        print(f"{fmt}: {time.perf_counter() - start:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
