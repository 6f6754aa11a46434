"""Regenerate the bundled replacement skies in assets/skies/ with skyseg's own sky generator.

    python scripts/make_sky_assets.py            # writes assets/skies/<preset>.jpg, 1600x900, JPEG q90

Every file is `skyseg make-sky <preset> --size 1600x900 --seed 0` (see assets/README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skyseg_core.cli import main  # noqa: E402
from skyseg_core.skygen import DEFAULT_SIZE, SKY_PRESETS  # noqa: E402


def run() -> int:
    folder = ROOT / "assets" / "skies"
    folder.mkdir(parents=True, exist_ok=True)
    size = f"{DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]}"
    for preset in SKY_PRESETS:
        status = main(
            [
                "make-sky",
                preset,
                "-o",
                str(folder / f"{preset}.jpg"),
                "--size",
                size,
                "--seed",
                "0",
                "--quality",
                "90",
                "--overwrite",
            ]
        )
        if status:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(run())
