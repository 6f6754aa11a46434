"""Tune the defaults of skyseg_core.refine on the TRAIN split of the shared data (never on val).

Two kinds of coarse matte are refined back to full resolution and scored against the truth:
``lowres``: the truth itself shrunk to 1/8 of its size (what a low-resolution network gives),
``color``: the ``color`` method's own coarse matte. Usage:

    .venv/bin/python scripts/tune_refine.py [--data ../shared/data/skyseg] [--per-dataset 30]
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

from skyseg_core.datasets import find_samples
from skyseg_core.evaluate import image_metrics, load_truth, summarize_group
from skyseg_core.io import load_image
from skyseg_core.matte import resize_matte
from skyseg_core.methods import get_method
from skyseg_core.refine import refine


def load(data, per_dataset):
    samples = find_samples(data, split="train")
    chosen = []
    for name in sorted({s.dataset for s in samples}):
        group = [s for s in samples if s.dataset == name]
        n = len(group) if name.startswith("ade20k") else min(per_dataset, len(group))
        step = len(group) / n
        chosen += [group[int(i * step)] for i in range(n)]
    out = []
    for s in chosen:
        image = load_image(s.image)
        truth, matte = load_truth(s)
        out.append((s, image, truth, matte))
    return out


def lowres_coarse(truth: np.ndarray, factor: int = 8) -> np.ndarray:
    soft = np.where(truth == 128, 0.5, truth > 128).astype(np.float32)
    h, w = truth.shape
    return resize_matte(soft, (max(1, h // factor), max(1, w // factor)))


def score(items, coarse, **params):
    records = []
    for (s, image, truth, matte), c in zip(items, coarse, strict=True):
        pred = (
            refine(image, c, **params)
            if params.get("radius", 1) is not None
            else resize_matte(c, truth.shape)
        )
        records.append(image_metrics(pred, truth, matte, dataset=s.dataset, id=s.id))
    pooled = summarize_group(records)
    ade = summarize_group([r for r in records if r.dataset.startswith("ade20k")])
    return pooled.micro_iou, pooled.boundary_f, ade.matte_mae, ade.boundary_f


GRIDS = {
    "wide": dict(
        guide=("color", "luma"),
        radius=(0.005, 0.01, 0.02, 0.04),
        eps=(1e-4, 1e-3, 1e-2),
        confidence_power=(2.0,),
        iterations=(1,),
    ),
    "focus": dict(
        guide=("color", "luma"),
        radius=(0.01, 0.02),
        eps=(1e-4, 1e-3),
        confidence_power=(2.0,),
        iterations=(1, 3),
    ),
    "final": dict(
        guide=("color",),
        radius=(0.02, 0.03),
        eps=(1e-4,),
        confidence_power=(1.0, 2.0, 4.0),
        iterations=(1, 2),
    ),
    "working": dict(
        guide=("color",),
        radius=(0.02,),
        eps=(1e-4,),
        confidence_power=(2.0,),
        iterations=(1,),
        working_size=(256, 512, 768),
    ),
    "power": dict(
        guide=("color",),
        radius=(0.01,),
        eps=(1e-3,),
        confidence_power=(1.0, 2.0, 4.0),
        iterations=(1,),
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="../shared/data/skyseg")
    parser.add_argument("--per-dataset", type=int, default=30)
    parser.add_argument("--grid", choices=sorted(GRIDS), default="focus")
    parser.add_argument("--source", choices=("lowres", "color"), action="append")
    args = parser.parse_args()
    items = load(args.data, args.per_dataset)
    print(f"{len(items)} training images")
    color = get_method("color")
    makers = {
        "lowres": lambda: [lowres_coarse(t) for _, _, t, _ in items],
        "color": lambda: [color.coarse(im) for _, im, _, _ in items],
    }
    sources = {name: makers[name]() for name in (args.source or ["lowres", "color"])}
    grid = GRIDS[args.grid]
    print(
        "| coarse | guide | radius | eps | power | iterations | micro IoU | boundary F | ADE matte MAE | ADE boundary F |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, coarse in sources.items():
        iou, bf, mae, abf = score(items, coarse, radius=None)
        print(
            f"| {name} | none (bilinear) | | | | | {iou:.4f} | {bf:.4f} | {mae:.4f} | {abf:.4f} |",
            flush=True,
        )
        for values in itertools.product(*grid.values()):
            params = dict(zip(grid, values, strict=True))
            t = time.perf_counter()
            iou, bf, mae, abf = score(items, coarse, **params)
            guide, radius, eps, power, iterations = values[:5]
            more = "".join(f" {k}={v}" for k, v in list(params.items())[5:])
            print(
                f"| {name} | {guide}{more} | {radius} | {eps:g} | {power:g} | {iterations} | {iou:.4f} | {bf:.4f} | {mae:.4f} | {abf:.4f} |"
                f" <!-- {time.perf_counter() - t:.1f}s -->",
                flush=True,
            )


if __name__ == "__main__":
    main()
