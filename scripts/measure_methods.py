"""Micro IoU of sky methods on the validation split, per dataset, raw and refined.

    .venv/bin/python scripts/measure_methods.py --methods color contour gradient classifier

Micro IoU pools pixels over all images (matte >= 0.5 is sky; ignore label 128 excluded).
"ADE20K" is reported on its own, and "all" pools every dataset of the split.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skyseg_core import get_method, load_image, segment  # noqa: E402
from skyseg_core.datasets import find_samples  # noqa: E402
from skyseg_core.evaluate import confusion  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "skyseg"))
    parser.add_argument("--split", default="val")
    parser.add_argument(
        "--methods", nargs="+", default=["color", "contour", "gradient", "classifier"]
    )
    parser.add_argument("--no-refine", action="store_true", help="measure raw output only")
    parser.add_argument("--limit", type=int, default=0, help="every n-th sample only (0 = all)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    samples = find_samples(args.data, split=args.split)
    if args.limit:
        samples = samples[:: args.limit]
    modes = [False] if args.no_refine else [False, True]
    # counts[(method, refined)][dataset] = [intersection, union]
    counts: dict = defaultdict(lambda: defaultdict(lambda: np.zeros(2, np.int64)))
    seconds: dict = defaultdict(float)
    for sample in samples:
        image = load_image(sample.image)
        truth = np.asarray(Image.open(sample.mask))
        for name in args.methods:
            get_method(name)
            for refined in modes:
                start = time.perf_counter()
                matte = segment(image, method=name, refine=refined)
                seconds[(name, refined)] += time.perf_counter() - start
                tp, fp, fn, _ = confusion(matte, truth)
                inter, union = tp, tp + fp + fn
                counts[(name, refined)][sample.dataset] += (inter, union)
    rows = []
    for (name, refined), per in counts.items():
        total = sum(per.values())
        ade = sum((v for k, v in per.items() if k.startswith("ade20k")), np.zeros(2, np.int64))
        rest = total - ade
        row = {
            "method": name,
            "refined": refined,
            "all": total[0] / max(total[1], 1),
            "ade20k": ade[0] / max(ade[1], 1),
            "without_ade20k": rest[0] / max(rest[1], 1),
            "per_dataset": {k: v[0] / max(v[1], 1) for k, v in sorted(per.items())},
            "ms_per_image": 1000 * seconds[(name, refined)] / len(samples),
        }
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{len(samples)} {args.split} samples from {args.data}")
    print("| method | refined | micro IoU all | ADE20K | without ADE20K | ms/image |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['method']} | {'yes' if r['refined'] else 'no'} | {r['all']:.3f} | {r['ade20k']:.3f} "
            f"| {r['without_ade20k']:.3f} | {r['ms_per_image']:.0f} |"
        )
    for r in rows:
        per = ", ".join(f"{k} {v:.3f}" for k, v in r["per_dataset"].items())
        print(f"{r['method']} {'refined' if r['refined'] else 'raw'}: {per}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
