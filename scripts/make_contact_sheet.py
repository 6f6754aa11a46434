"""Before/after contact sheets of sky replacement on shared photos -> docs/contact_sheet_<look>.jpg.

    python scripts/make_contact_sheet.py [--look natural|plain|soft|dramatic|all] [--data ../shared/data/skyseg]

Each pair is a photo from the shared data set (read-only, development use) and the same photo after
`skyseg replace PHOTO --sky SKY --look LOOK`, nothing else set: the sheet shows what the declared
defaults (skyseg_core/effects/params.py) and each look give, with the settings under each pair.
The matte comes from `auto`, so the sheet also shows its mistakes; a photo the effects refuse
(no sky found) is shown with that message.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skyseg_core import load_image  # noqa: E402
from skyseg_core.effects import REPLACE_PRESETS, NoSkyError, replace_preset  # noqa: E402
from skyseg_core.io import save_image  # noqa: E402
from skyseg_core.pipeline import MatteSource, SkyCache, find_matte, render  # noqa: E402

TILE = (360, 270)

PAIRS = [  # (dataset/image, sky, what the photo is)
    ("stanford_background_iccv09/6000257", "sunset", "noon street"),
    ("stanford_background_iccv09/5000190", "clouds", "grey sky over a tree"),
    ("stanford_background_iccv09/6000213", "golden_hour", "bare branches"),
    ("camvid_segnet/test_Seq05VD_f00240", "clear_day", "dashcam, white sky"),
    ("stanford_background_iccv09/0100855", "storm", "blue sky, buildings"),
    ("stanford_background_iccv09/0104958", "blue_hour", "sailing"),
    ("stanford_background_iccv09/0102534", "golden_hour", "white sky, open road"),
    ("stanford_background_iccv09/0000051", "sunset", "field and trees"),
]


def _tile(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    s = min(TILE[0] / w, TILE[1] / h)
    small = cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    canvas = np.full((TILE[1], TILE[0], 3), 24, np.uint8)
    y, x = (TILE[1] - small.shape[0]) // 2, (TILE[0] - small.shape[1]) // 2
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    return canvas


def _label(text: str, width: int) -> np.ndarray:
    bar = np.full((26, width, 3), 245, np.uint8)
    cv2.putText(bar, text, (8, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (30, 30, 30), 1, cv2.LINE_AA)
    return bar


def settings_text(look: str) -> str:
    changes = REPLACE_PRESETS[look]
    return (
        "defaults"
        if not changes
        else ", ".join(f"{k.replace('_', ' ')} {v:g}" for k, v in changes.items())
    )


def sheet(look: str, data: Path, method: str) -> np.ndarray:
    skies = SkyCache()
    cells = []
    for name, sky, what in PAIRS:
        dataset, stem = name.split("/")
        image = load_image(data / dataset / "images" / f"{stem}.jpg")
        matte, _ = find_matte(image, MatteSource(method))
        try:
            after = render(image, matte, [replace_preset(look, sky=sky)], skies).image
            label = f"{what} -> {sky}"
        except NoSkyError:
            after, label = image, f"{what}: no sky found, nothing replaced"
        pair = np.hstack([_tile(image), np.full((TILE[1], 4, 3), 255, np.uint8), _tile(after)])
        cells.append(np.vstack([pair, _label(label, pair.shape[1])]))
    rows = []
    for i in range(0, len(cells), 2):
        row = cells[i : i + 2]
        if len(row) == 1:
            row.append(np.full_like(row[0], 255))
        rows.append(np.hstack([row[0], np.full((row[0].shape[0], 12, 3), 255, np.uint8), row[1]]))
    title = _label(
        f"skyseg replace PHOTO --sky SKY --look {look}   ({settings_text(look)})", rows[0].shape[1]
    )
    return np.vstack(
        [title] + [np.vstack([r, np.full((10, r.shape[1], 3), 255, np.uint8)]) for r in rows]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "skyseg"))
    parser.add_argument("--method", default="auto")
    parser.add_argument("--look", default="all", choices=(*REPLACE_PRESETS, "all"))
    parser.add_argument("--out-dir", default=str(ROOT / "docs"))
    args = parser.parse_args(argv)
    for look in REPLACE_PRESETS if args.look == "all" else (args.look,):
        path = Path(args.out_dir) / f"contact_sheet_{look}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(path, sheet(look, Path(args.data), args.method), overwrite=True, quality=88)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
