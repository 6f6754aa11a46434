"""How much faint sky the effects would paint where there is none, before and after the matte clean-up.

    python scripts/measure_recipe.py [--data ../shared/data/skyseg] [--method auto] [--step 1]

On the validation split: each photo's matte from the method (cached in cache/recipe_mattes/),
then, against the ground truth (ignore label excluded, and a band of 1 % of the longer side
around the true sky border, where a soft edge is right):
- ``leak``: share of true non-sky pixels that would get some new sky (matte > 0), with the
  raw matte and with the cleaned one (:func:`skyseg_core.effects.clean_matte`);
- ``faint``: share of true non-sky pixels with a faint matte (0 < matte < 0.5);
- sky-free photos: how many replace refuses (no sky found) and, for the others, how many
  pixels it would change; photos with sky: how many it refuses wrongly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skyseg_core import load_image, segment  # noqa: E402
from skyseg_core.datasets import find_samples  # noqa: E402
from skyseg_core.effects import MIN_SKY_SHARE, ReplaceParams, clean_matte, sky_share  # noqa: E402


def cached_matte(sample, method: str, cache: Path) -> np.ndarray:
    path = cache / method / sample.dataset / f"{sample.id}.npz"
    if (
        path.is_file()
    ):  # float16 keeps the faint tail (down to 6e-8) that 16-bit codes would round away
        return np.load(path)["matte"].astype(np.float32)
    matte = segment(load_image(sample.image), method=method)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, matte=matte.astype(np.float16))
    return matte


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "skyseg"))
    parser.add_argument("--method", default="auto")
    parser.add_argument("--step", type=int, default=1, help="every n-th validation photo")
    parser.add_argument("--cleanup", type=float, default=ReplaceParams().cleanup)
    parser.add_argument("--cache", default=str(ROOT / "cache" / "recipe_mattes"))
    args = parser.parse_args(argv)
    samples = find_samples(args.data, split="val")[:: args.step]
    rows = {}
    skyfree = {"photos": 0, "refused": 0, "changed_px": []}
    with_sky = {"photos": 0, "refused": 0}
    for sample in tqdm(samples, desc="photos", unit="img"):
        matte = cached_matte(sample, args.method, Path(args.cache))
        truth = cv2.imread(str(sample.mask), cv2.IMREAD_GRAYSCALE)
        if truth.shape != matte.shape:
            truth = cv2.resize(truth, matte.shape[::-1], interpolation=cv2.INTER_NEAREST)
        sky, valid = truth == 255, truth != 128
        band = max(1, round(0.01 * max(truth.shape)))
        near = cv2.dilate(sky.astype(np.uint8), np.ones((2 * band + 1,) * 2, np.uint8)) > 0
        ground = valid & ~near
        cleaned = clean_matte(matte, args.cleanup)
        row = rows.setdefault(sample.dataset, {"ground": 0, "raw": 0, "clean": 0, "faint": 0})
        row["ground"] += int(ground.sum())
        row["raw"] += int((ground & (matte > 0)).sum())
        row["clean"] += int((ground & (cleaned > 0)).sum())
        row["faint"] += int((ground & (matte > 0) & (matte < 0.5)).sum())
        refused = sky_share(cleaned) < MIN_SKY_SHARE
        if not sky.any():
            skyfree["photos"] += 1
            skyfree["refused"] += refused
            if not refused:
                skyfree["changed_px"].append(
                    f"{sample.id}: {int((cleaned > 0).sum())} px, share {sky_share(cleaned):.4f}"
                )
        else:
            with_sky["photos"] += 1
            with_sky["refused"] += refused
            if refused:
                with_sky.setdefault("which", []).append(
                    f"{sample.id}: true sky {sky.mean():.4f}, found {sky_share(cleaned):.4f}"
                )
    print(f"method {args.method}, clean-up {args.cleanup}, {len(samples)} validation photos")
    print(f"{'dataset':32s} {'faint':>8s} {'leak raw':>9s} {'leak clean':>11s}")
    total = {"ground": 0, "raw": 0, "clean": 0, "faint": 0}
    for name, row in sorted(rows.items()):
        for key in total:
            total[key] += row[key]
        g = max(row["ground"], 1)
        print(f"{name:32s} {row['faint'] / g:8.4%} {row['raw'] / g:9.4%} {row['clean'] / g:11.4%}")
    g = max(total["ground"], 1)
    print(
        f"{'all':32s} {total['faint'] / g:8.4%} {total['raw'] / g:9.4%} {total['clean'] / g:11.4%}"
    )
    print(
        f"sky-free photos: {skyfree['photos']}, refused {skyfree['refused']}; "
        f"pixels that would change in the others: {skyfree['changed_px']}"
    )
    print(
        f"photos with sky: {with_sky['photos']}, refused {with_sky['refused']}: {with_sky.get('which', [])}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
