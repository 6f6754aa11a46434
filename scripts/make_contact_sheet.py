"""Before/after contact sheet of the sky effects on shared photos -> docs/effects_contact_sheet.jpg.

    python scripts/make_contact_sheet.py [--data ../shared/data/skyseg] [--method auto] [-o FILE]

Each pair is a photo from the shared data set (read-only, development use) and the same photo after
`skyseg replace` / `tint` / `relight` with the settings written under it. The sky matte comes from
the method given (default `auto`, the best shipped one), so the sheet also shows its mistakes.
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
from skyseg_core.effects import relight, replace_sky, tint_sky  # noqa: E402
from skyseg_core.io import save_image  # noqa: E402
from skyseg_core.skygen import load_sky  # noqa: E402

TILE = (360, 270)

# (dataset/image, label, effect)
PAIRS = [
    ("stanford_background_iccv09/6000257", "sunset over a noon street; colour match .7, edge light .5",
     lambda im, m: replace_sky(im, m, load_sky("sunset"), color_match=0.7, halo=0.5, fade_edge=0.2)),
    ("stanford_background_iccv09/5000190", "grey sky over a tree -> clouds; colour match .5",
     lambda im, m: replace_sky(im, m, load_sky("clouds"), color_match=0.5, fade_edge=0.2)),
    ("stanford_background_iccv09/6000213", "hard case: bare branches (matte misses sky) -> golden hour",
     lambda im, m: replace_sky(im, m, load_sky("golden_hour"), shift_edge=-0.2, color_match=0.6, halo=0.4)),
    ("camvid_segnet/test_Seq05VD_f00240", "dashcam, white sky -> clear day; defocus 1",
     lambda im, m: replace_sky(im, m, load_sky("clear_day"), defocus=1.0, color_match=0.4)),
    ("stanford_background_iccv09/0100855", "blue sky -> storm; colour match .8",
     lambda im, m: replace_sky(im, m, load_sky("storm"), color_match=0.8, fade_edge=0.2)),
    ("stanford_background_iccv09/0104958", "sailing -> blue hour; colour match 1, flipped",
     lambda im, m: replace_sky(im, m, load_sky("blue_hour"), color_match=1.0, flip=True)),
    ("stanford_background_iccv09/0102534", "white sky -> evening tint (multiply, 3 stops)",
     lambda im, m: tint_sky(im, m, stops=((0, "#ffb070"), (0.45, "#e08890"), (1, "#5a6fb0")), mode="multiply")),
    ("stanford_background_iccv09/0000051", "relight to a sunset sky (depth falloff)",
     lambda im, m: relight(im, m, load_sky("sunset"))),
]


def _tile(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    s = min(TILE[0] / w, TILE[1] / h)
    small = cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    canvas = np.full((TILE[1], TILE[0], 3), 24, np.uint8)
    y, x = (TILE[1] - small.shape[0]) // 2, (TILE[0] - small.shape[1]) // 2
    canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
    return canvas


def _label(text: str, width: int) -> np.ndarray:
    bar = np.full((26, width, 3), 245, np.uint8)
    cv2.putText(bar, text, (8, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (30, 30, 30), 1, cv2.LINE_AA)
    return bar


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "skyseg"))
    parser.add_argument("--method", default="auto")
    parser.add_argument("-o", "--output", default=str(ROOT / "docs" / "effects_contact_sheet.jpg"))
    args = parser.parse_args(argv)
    cells = []
    for name, label, effect in PAIRS:
        dataset, stem = name.split("/")
        image = load_image(Path(args.data) / dataset / "images" / f"{stem}.jpg")
        matte = segment(image, method=args.method)
        after = effect(image, matte)
        pair = np.hstack([_tile(image), np.full((TILE[1], 4, 3), 255, np.uint8), _tile(after)])
        cells.append(np.vstack([pair, _label(label, pair.shape[1])]))
    rows = []
    for i in range(0, len(cells), 2):
        row = cells[i:i + 2]
        if len(row) == 1:
            row.append(np.full_like(row[0], 255))
        rows.append(np.hstack([row[0], np.full((row[0].shape[0], 12, 3), 255, np.uint8), row[1]]))
    sheet = np.vstack([np.vstack([r, np.full((10, r.shape[1], 3), 255, np.uint8)]) for r in rows])
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    save_image(args.output, sheet, overwrite=True, quality=88)
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
