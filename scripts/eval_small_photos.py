"""Micro IoU of the product path on small photos, the network's small-photo enlargement off and on.

    python scripts/eval_small_photos.py [--sizes 200 320] [--data ../shared/data/skyseg]

The validation split, each photo shrunk (area) to each ``--sizes`` on its longer side (a photo
already smaller is kept; size 0 keeps every photo as it is, as ``skyseg eval`` sees them) and
its truth mask with it (nearest), is segmented by
``skyseg_core.segment(image, method="auto")`` twice: with the coarse network seeing a photo
smaller than its working size at the photo's own size (``enlarge_small=False``, as before issue
28's test) and enlarged to the working size (the default). Prints micro IoU per dataset and
overall for each size, and the seconds the two took (the same photos, in turns). Then the
product path's time on one frame of 1920x1080 and of 200x150 (the bundled sample photo resized),
off and on in turns, the fastest of ``--repeat``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skyseg_core import load_image, segment  # noqa: E402
from skyseg_core.datasets import find_samples  # noqa: E402
from skyseg_core.evaluate import load_truth  # noqa: E402
from skyseg_core.evaluate.metrics import confusion, iou_from_counts  # noqa: E402
from skyseg_core.methods import get_method  # noqa: E402
from skyseg_core.methods._base import resize_long_side  # noqa: E402

VARIANTS = {"own size": False, "enlarged": True}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/skyseg")
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 320])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each timing")
    args = parser.parse_args(argv)
    net = get_method("auto")  # the instance segment(method="auto") uses
    if not hasattr(net, "enlarge_small"):
        parser.error(f"auto is {net.name}, which has no enlarge_small")
    default = net.enlarge_small
    samples = find_samples(args.data, split="val")
    # (size, variant, dataset) -> [tp, fp, fn]; (size, variant) -> seconds
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    seconds: dict[tuple, float] = defaultdict(float)
    for sample in samples:
        image = load_image(sample.image)
        truth, _ = load_truth(sample)
        for size in args.sizes:
            small = resize_long_side(image, size) if size else image
            h, w = small.shape[:2]
            small_truth = cv2.resize(truth, (w, h), interpolation=cv2.INTER_NEAREST)
            for label, enlarge in VARIANTS.items():
                net.enlarge_small = enlarge
                start = time.perf_counter()
                matte = segment(small, method="auto")
                seconds[size, label] += time.perf_counter() - start
                tp, fp, fn, _ = confusion(matte, small_truth)
                for key in ((size, label, sample.dataset), (size, label, "overall")):
                    counts[key] = [a + b for a, b in zip(counts[key], (tp, fp, fn), strict=True)]
    net.enlarge_small = default
    names = sorted({sample.dataset for sample in samples}) + ["overall"]
    print(f"{len(samples)} validation photos, method {net.name}")
    print("| size | dataset | photos | own size | enlarged | change |\n|---|---|---|---|---|---|")
    for size in args.sizes:
        for name in names:
            n = sum(1 for s in samples if name in ("overall", s.dataset))
            before, after = (iou_from_counts(*counts[size, v, name]) for v in VARIANTS)
            print(f"| {size} | {name} | {n} | {before:.4f} | {after:.4f} | {after - before:+.4f} |")
    for size in args.sizes:
        own, big = seconds[size, "own size"], seconds[size, "enlarged"]
        print(f"{size} px: {own:.1f} s own size, {big:.1f} s enlarged ({big / own:.2f} times)")
    cost(net, args.repeat)
    net.enlarge_small = default
    return 0


def cost(net, repeat: int) -> None:
    """The product path's fastest time on a large and a small frame, off and on in turns."""
    photo = load_image(ROOT / "assets" / "samples" / "rocket.jpg")
    for w, h in ((1920, 1080), (200, 150)):
        frame = cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA)
        best = dict.fromkeys(VARIANTS, float("inf"))
        for _ in range(repeat):
            for label, enlarge in VARIANTS.items():
                net.enlarge_small = enlarge
                start = time.perf_counter()
                segment(frame, method="auto")
                best[label] = min(best[label], time.perf_counter() - start)
        own, big = best["own size"], best["enlarged"]
        print(
            f"{w}x{h}: {1000 * own:.1f} ms own size, {1000 * big:.1f} ms enlarged ({big / own:.2f} times)"
        )


if __name__ == "__main__":
    sys.exit(main())
