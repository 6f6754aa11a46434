"""Measure the replacement's sky opacity and horizon haze on a real photo (issue 26 point 6).

For each value, the mean absolute difference (8-bit codes) between the result and the photo in
the sky (the data set's mask) just above the sky border (the lower quarter of the haze's reach)
and above the haze's reach; with ``--time``, seconds of ``replace_sky`` at 24 MP (median of 3)
with the defaults and with opacity and haze on.

    .venv/bin/python scripts/measure_haze.py [--time]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADE = ROOT.parent / "shared" / "data" / "skyseg" / "ade20k_skyopt_cvprw2020"
PHOTO = ADE / "images" / "ADE_val_00000249.jpg"


def main() -> int:
    from skyseg_core import effects
    from skyseg_core.effects import replace_preset
    from skyseg_core.effects._geometry import sky_border
    from skyseg_core.effects._haze import HAZE_REACH
    from skyseg_core.io import load_image, load_matte
    from skyseg_core.skygen import load_sky

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", action="store_true", help="also time 24 MP replacements")
    args = parser.parse_args()
    image = load_image(PHOTO)
    matte = load_matte(ADE / "masks" / (PHOTO.stem + ".png"))
    sky = load_sky("golden_hour")
    border = sky_border(matte, matte.shape[0])
    reach = HAZE_REACH * (border.horizon - border.top)
    rows = np.arange(matte.shape[0])[:, None]
    confident = matte >= 1.0
    near = confident & (rows >= border.horizon - 0.25 * reach)
    far = confident & (rows < border.horizon - reach)
    print(f"{PHOTO.name} {image.shape[1]}x{image.shape[0]}, sky border row {border.horizon:.0f}")
    print(f"pixels: near the border {near.sum()}, above the haze {far.sum()}")

    def distance(out, where):
        return float(np.abs(out[where].astype(float) - image[where]).mean())

    for name, values in (
        ("horizon_haze", (0, 0.25, 0.5, 0.75, 1)),
        ("sky_opacity", (1, 0.75, 0.5, 0.25, 0)),
    ):
        for value in values:
            out = effects.replace_sky(image, matte, sky, replace_preset("natural", **{name: value}))
            print(
                f"{name}={value:<5} |result - photo| near {distance(out, near):6.2f}  above {distance(out, far):6.2f}"
            )
    if args.time:
        big = cv2.resize(image, (6000, 4000), interpolation=cv2.INTER_CUBIC)
        big_matte = cv2.resize(matte, (6000, 4000), interpolation=cv2.INTER_LINEAR)
        for label, changes in (
            ("defaults", {}),
            ("opacity 0.7, haze 0.5", {"sky_opacity": 0.7, "horizon_haze": 0.5}),
        ):
            times = []
            for _ in range(3):
                t = time.perf_counter()
                effects.replace_sky(big, big_matte, sky, replace_preset("natural", **changes))
                times.append(time.perf_counter() - t)
            print(f"24 MP replace_sky, {label}: {statistics.median(times):.2f} s (median of 3)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
