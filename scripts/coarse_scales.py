"""Would a flipped or rescaled run of the network find the sky regions it misses entirely?

    python scripts/coarse_scales.py

For each validation photo whose product-path IoU is below ``--below`` (default 0.05: the
regions the network misjudges as a whole, e.g. sky through an indoor window), prints the
network's mean sky probability on the true sky at its own working size, with the photo flipped
left-right, and with the photo shrunk to other sizes, each resized to the working size. A test-time
flip or second scale can only help where one of these is well above 0. Then the dataset's matte
figures (micro IoU, matte MAE, boundary F, as ``skyseg eval`` reports them) with and without
those photos: how much of the gap they are.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skyseg_core import load_image, segment  # noqa: E402
from skyseg_core.datasets import find_samples  # noqa: E402
from skyseg_core.evaluate import (  # noqa: E402
    image_metrics,
    load_truth,
    summarize,
    summary_table,
    truth_labels,
)
from skyseg_core.matte import to_float_rgb  # noqa: E402
from skyseg_core.methods import get_method  # noqa: E402
from skyseg_core.methods._base import resize_long_side  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/skyseg")
    parser.add_argument("--dataset", default="ade20k_skyopt_cvprw2020")
    parser.add_argument("--below", type=float, default=0.05)
    parser.add_argument("--sizes", type=int, nargs="+", default=[224, 448])
    args = parser.parse_args(argv)
    net = get_method("deeplab")
    print(
        f"photo | IoU | own ({net.working_size} px) | flipped | " + " | ".join(map(str, args.sizes))
    )
    records: list[tuple[object, bool]] = []  # (the photo's metrics, missed as a whole)
    for sample in find_samples(args.data, split="val", datasets=[args.dataset]):
        image = load_image(sample.image)
        truth, matte = load_truth(sample)
        sky, _ = truth_labels(truth)
        metrics = image_metrics(segment(image), truth, matte, dataset=sample.dataset, id=sample.id)
        missed = bool(sky.any()) and metrics.iou < args.below
        records.append((metrics, missed))
        if not missed:
            continue
        small = to_float_rgb(resize_long_side(image, net.working_size))
        h, w = small.shape[:2]
        where = cv2.resize(sky.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        runs = [net.predict(small), net.predict(small[:, ::-1].copy())[:, ::-1]]
        for size in args.sizes:
            other = net.predict(to_float_rgb(resize_long_side(image, size)))
            runs.append(cv2.resize(other, (w, h), interpolation=cv2.INTER_LINEAR))
        means = " | ".join(f"{float(p[where].mean()):.3f}" for p in runs)
        print(f"{sample.id} | {metrics.iou:.3f} | {means}")
    print("\nAll photos of the dataset, then without the photos above:\n")
    print(summary_table(summarize([m for m, _ in records])))
    print(summary_table(summarize([m for m, missed in records if not missed])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
