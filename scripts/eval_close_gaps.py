"""How the editor's Close gaps (:func:`skyseg_core.detail.close_gaps` at 1.0) changes the
``color`` method's matte on fisheye validation photos (the data set's masks follow the leaves):
gaps filled and leaves kept where sky and foreground meet, and the foreground away from the sky
kept, for :data:`~skyseg_core.detail.GAP_TEXTURE` and for the whole band reopened.

``python scripts/eval_close_gaps.py [--every 3]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skyseg_core import detail  # noqa: E402
from skyseg_core.datasets import find_samples  # noqa: E402
from skyseg_core.io import load_image  # noqa: E402
from skyseg_core.pipeline import MatteSource, find_matte  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "skyseg" / "fisheye_gnss_sky"


def zones(truth: np.ndarray, reach: int = 15):
    """(gaps, leaves, far foreground): true sky and foreground within ``reach`` px of the other
    kind, and foreground farther than that from any sky (128 = ignore is in none)."""
    kernel = np.ones((reach, reach), np.uint8)
    near_sky = cv2.dilate((truth == 255).astype(np.uint8), kernel).astype(bool)
    near_ground = cv2.dilate((truth == 0).astype(np.uint8), kernel).astype(bool)
    both = near_sky & near_ground
    return both & (truth == 255), both & (truth == 0), (truth == 0) & ~near_sky


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=int, default=3, help="every n-th validation photo")
    args = parser.parse_args()
    samples = find_samples(DATA, split="val")[:: args.every]
    variants = {"method alone": None, f"texture > {detail.GAP_TEXTURE}": detail.GAP_TEXTURE}
    variants["whole band"] = -1.0
    rows: dict[str, list] = {name: [] for name in variants}
    for sample in samples:
        image, truth = load_image(sample.image), np.asarray(Image.open(sample.mask))
        gaps, leaves, far = zones(truth)
        if gaps.sum() < 500:  # no canopy against the sky worth counting
            continue
        matte, _ = find_matte(image, MatteSource("color"))
        for name, texture in variants.items():
            if texture is None:
                out = matte
            else:
                detail.GAP_TEXTURE = texture
                out = detail.close_gaps(image, matte, 1.0)
            rows[name].append(
                ((out[gaps] >= 0.5).mean(), (out[leaves] < 0.5).mean(), (out[far] < 0.5).mean())
            )
    print(f"{len(rows['method alone'])} photos (one in {args.every} of the validation split)")
    print("| matte | gaps filled | leaves kept | foreground away from the sky kept |")
    print("|---|---:|---:|---:|")
    for name, values in rows.items():
        g, lv, f = np.mean(values, axis=0)
        print(f"| {name} | {g:.2f} | {lv:.2f} | {f:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
