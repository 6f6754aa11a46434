"""Make docs/video_strip.jpg: per-frame against temporal mattes on a pan, and the replaced frames.

    .venv/bin/python scripts/video_strip.py [--out docs/video_strip.jpg]

A camera pan with a tilt over a real photo of ../shared/data/skyseg (tests/videoclips.py),
five consecutive frames in columns. Rows: the frames; each frame's own matte, with the pixels
whose decision flipped since the previous frame (camera move undone) in red; the same with the
temporal stage; the frames through `skyseg replace` with the sky moving with the camera.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PHOTO = "ade20k_skyopt_cvprw2020/images/ADE_train_00000561.jpg"
STEP = (5, 2)
"""The camera moves right 5 px and down 2 px per frame (a pan with a tilt)."""


def flips_shown(matte: np.ndarray, before: np.ndarray, step: tuple[int, int]) -> np.ndarray:
    """The matte in grey with the pixels whose decision changed since ``before`` in red."""
    grey = (np.clip(matte, 0, 1) * 255).astype(np.uint8)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    dx, dy = step
    h, w = matte.shape
    # the scene point at before[y + dy, x + dx] is at matte[y, x]
    now = matte[: h - dy, : w - dx] >= 0.5
    then = before[dy:, dx:] >= 0.5
    changed = np.zeros((h, w), bool)
    changed[: h - dy, : w - dx] = now != then
    rgb[changed] = (230, 30, 30)
    return rgb


def label(image: np.ndarray, text: str) -> np.ndarray:
    """``image`` with ``text`` in a white band under it."""
    band = np.full((18, image.shape[1], 3), 255, np.uint8)
    cv2.putText(band, text, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([image, band], axis=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "video_strip.jpg")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from skyseg_core.clips import FrameRenderer
    from skyseg_core.effects import ReplaceParams
    from skyseg_core.segment import segment
    from skyseg_core.temporal import TemporalStage
    from tests.videoclips import flips, pan

    step = STEP
    p = pan(size=(200, 150), step=step, frames=6, relative=PHOTO)
    per = [segment(f) for f in p.frames]
    stage = TemporalStage()
    steady = [stage(f, m) for f, m in zip(p.frames, per, strict=True)]
    render = FrameRenderer([ReplaceParams(sky="clouds")], sky_motion="camera")
    replaced = [render(f, m) for f, m in zip(p.frames, steady, strict=True)]
    rows = [[], [], [], []]
    for i in range(1, 6):
        f_per = flips(per[i - 1], per[i], step)
        f_tem = flips(steady[i - 1], steady[i], step)
        rows[0].append(label(p.frames[i], f"frame {i + 1}"))
        rows[1].append(
            label(flips_shown(per[i], per[i - 1], step), f"per frame: {100 * f_per:.2f}% flipped")
        )
        rows[2].append(
            label(
                flips_shown(steady[i], steady[i - 1], step), f"temporal: {100 * f_tem:.2f}% flipped"
            )
        )
        rows[3].append(label(replaced[i], "replaced, sky follows the camera"))
    pad = 4
    lines = []
    for row in rows:
        cells = []
        for cell in row:
            cells += [cell, np.full((cell.shape[0], pad, 3), 255, np.uint8)]
        lines += [np.concatenate(cells[:-1], axis=1)]
        lines.append(np.full((pad, lines[-1].shape[1], 3), 255, np.uint8))
    strip = np.concatenate(lines[:-1], axis=0)
    cv2.imwrite(
        str(args.out), cv2.cvtColor(strip, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88]
    )
    print(f"wrote {args.out} ({strip.shape[1]}x{strip.shape[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
