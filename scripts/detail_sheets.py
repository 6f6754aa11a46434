"""Before/after sheets of the sky matte's detail, for the README.

    python scripts/detail_sheets.py --out-dir docs

``detail_canopy.png``: the validation photos' worst edge regions of the product path *before*
the detail stage (``segment(..., detail=False)``), each at 200 %: photo, the new sky composited
with the matte before, and after. ``detail_storm.png``: storm and sunset skies (the SkyAR sky
photos of ``../shared/data/skies``, darkened as a storm) pasted into the sky of validation
photos with their truth as alpha, then cropped close (640 x 360 around the horizon): before,
after. Prints the sky found in the storm crops (share of the truth's sky pixels).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skyseg_core import load_image, save_image, segment  # noqa: E402
from skyseg_core.datasets import find_samples  # noqa: E402
from skyseg_core.evaluate import load_truth, truth_labels, worst_edge_region  # noqa: E402
from skyseg_core.train.augment import fit_sky  # noqa: E402

MAGENTA = np.array([255, 0, 255], np.float32)


def composite(image: np.ndarray, matte: np.ndarray) -> np.ndarray:
    alpha = matte[..., None].astype(np.float32)
    return np.round(alpha * MAGENTA + (1 - alpha) * image.astype(np.float32)).astype(np.uint8)


def canopy_regions(data: Path, count: int, window: int):
    """The ``count`` worst edge regions of the path without the detail stage."""
    found = []
    for sample in find_samples(data, split="val"):
        image = load_image(sample.image)
        truth, matte = load_truth(sample)
        before = segment(image, detail=False)
        region = worst_edge_region(before, truth, matte, window)
        if region is not None:
            found.append((region[0], sample, region[1:]))
    found.sort(key=lambda item: -item[0])
    return found[:count]


def sheet(rows: list[list[np.ndarray]], scale: int, gap: int = 6) -> np.ndarray:
    rows = [
        [cv2.resize(p, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST) for p in r]
        for r in rows
    ]
    h = max(p.shape[0] for r in rows for p in r)
    w = max(sum(p.shape[1] for p in r) + gap * (len(r) + 1) for r in rows)
    out = np.full((len(rows) * (h + gap) + gap, w, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        x = gap
        for picture in row:
            y = gap + i * (h + gap)
            out[y : y + picture.shape[0], x : x + picture.shape[1]] = picture
            x += picture.shape[1] + gap
    return out


def storm_crops(data: Path, skies: Path, count: int):
    """(photo crop, truth sky crop) pairs: dark skies pasted into real photos, cropped close."""
    rng = np.random.default_rng(7)
    sky_photos = [load_image(skies / name) for name in ("rainy.jpg", "sunset.jpg", "cloudy.jpg")]
    out = []
    for sample in find_samples(data, split="val", datasets=["ade20k_skyopt_cvprw2020"]):
        image = load_image(sample.image)
        truth, matte = load_truth(sample)
        sky, valid = truth_labels(truth)
        if sky.mean() < 0.25 or image.shape[1] < 640 or image.shape[0] < 360:
            continue
        h, w = image.shape[:2]
        new_sky = fit_sky(sky_photos[len(out) % len(sky_photos)], h, w, rng).astype(np.float32)
        new_sky *= rng.uniform(0.35, 0.6)  # a storm, or the last light of a sunset
        alpha = (matte if matte is not None else sky.astype(np.float32))[..., None]
        pasted = np.round(alpha * new_sky + (1 - alpha) * image).astype(np.uint8)
        horizon = int(np.argmax(sky.mean(axis=1) < 0.5)) or h // 2
        y = int(np.clip(horizon - 300, 0, h - 360))
        x = (w - 640) // 2
        out.append(
            (
                pasted[y : y + 360, x : x + 640],
                sky[y : y + 360, x : x + 640] & valid[y : y + 360, x : x + 640],
            )
        )
        if len(out) == count:
            break
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/skyseg")
    parser.add_argument("--skies", type=Path, default=ROOT.parent / "shared/data/skies")
    parser.add_argument("--regions", type=int, default=6)
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)

    rows = []
    for error, sample, (x, y, side) in canopy_regions(args.data, args.regions, 96):
        image = load_image(sample.image)
        crop = (slice(y, y + side), slice(x, x + side))
        before = segment(image, detail=False)[crop]
        after = segment(image)[crop]
        photo = image[crop]
        rows.append([photo, composite(photo, before), composite(photo, after)])
        print(
            f"{sample.dataset}/{sample.id} at {x},{y}: error before {error:.3f}, "
            f"after {np.abs(after - before).mean():.3f} changed"
        )
    out = args.out_dir / "detail_canopy.png"
    save_image(out, sheet(rows, 2), overwrite=True)  # atomic; cv2.imwrite fails silently
    print(f"wrote {out}")

    rows = []
    for crop, sky in storm_crops(args.data, args.skies, 3):
        before, after = segment(crop, detail=False), segment(crop)
        found = [float((m >= 0.5)[sky].mean()) for m in (before, after)]
        print(f"storm crop: sky found before {found[0]:.3f}, after {found[1]:.3f}")
        small = [
            cv2.resize(p, (320, 180), interpolation=cv2.INTER_AREA)
            for p in (crop, composite(crop, before), composite(crop, after))
        ]
        rows.append(small)
    out = args.out_dir / "detail_storm.png"
    save_image(out, sheet(rows, 1), overwrite=True)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
