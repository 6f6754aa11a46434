"""Replaying brush strokes on the editor's preview: what a new matte (Find sky again, Close
gaps) costs when strokes are kept, which is why the editor replays them on a thread.

``python -m benchmarks.bench_replay``: 10 strokes of 120 px (7 edge-aware add-sky, 3 remove)
on the 2048 px preview of the 24 MP standard photo, its matte from ``color``; and Close gaps'
target (:func:`skyseg_core.detail.gap_target`) on that preview (a thread of the editor) and at
full size (added to an export with Close gaps on); one run each.
"""

from __future__ import annotations

import time

import numpy as np


def main() -> int:
    from benchmarks.harness import photo
    from effects_gui.brush import Stroke, replay
    from effects_gui.model import proxy_of
    from skyseg_core.pipeline import MatteSource, find_matte

    image = np.array(photo(6000, 4000))
    proxy, scale = proxy_of(image, 2048)
    matte, _ = find_matte(proxy, MatteSource("color"))
    rng = np.random.default_rng(0)
    strokes = []
    for i in range(10):
        x, y = rng.uniform(500, 5500), rng.uniform(800, 2500)
        path = ((x, y), (x + 400, y + 50), (x + 800, y))
        strokes.append(Stroke(path, 120.0, 0.5, bool(i % 3), True, 1.0))
    from skyseg_core.detail import gap_target, shipped_detail_model

    shipped_detail_model()  # loaded once per process (the editor's first stroke), not timed
    start = time.perf_counter()
    replay(matte, proxy, strokes, scale)
    elapsed = time.perf_counter() - start
    print(f"10 strokes replayed on the {proxy.shape[1]}x{proxy.shape[0]} preview: {elapsed:.2f} s")

    from skyseg_core.matte import resize_matte

    full, _ = find_matte(image, MatteSource("color"))
    for name, picture, base in (
        ("the preview", proxy, resize_matte(full, proxy.shape[:2])),
        ("24 MP (export)", image, full),
    ):
        start = time.perf_counter()
        gap_target(picture, base)
        print(f"Close gaps' target on {name}: {time.perf_counter() - start:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
