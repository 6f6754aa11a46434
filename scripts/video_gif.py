"""Make the README's GIFs: a clip as shot and through `skyseg replace`, side by side or stacked.

    .venv/bin/python scripts/video_gif.py [--out docs/video_pan.gif] [--sky clouds]
    .venv/bin/python scripts/video_gif.py --clip ../shared/data/video/annarbor.mp4 --start 3.6 \
        --sky sunset --out docs/annarbor_replace.gif

Without ``--clip`` the clip is made here: a crop window moves left to right over
assets/samples/rocket.jpg (public domain) and closes in slightly, so the camera pans and zooms.
With ``--clip`` a few seconds of a real video are cut out of it (re-encoded at high quality; the
source is never copied into the repository: the dashcam clip is CC BY-NC-SA 4.0, and the GIF made
from it is under that licence too, see docs/annarbor_replace.gif.license). Either clip goes
through the command line as a user would run it, `skyseg replace clip.mp4 --sky NAME -o out.mp4`
(default method, temporal stage, the sky moving with the camera), and the two clips are put
together in a looping GIF with one shared palette.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "assets" / "samples" / "rocket.jpg"
FRAME_SIZE = (360, 240)
"""The clip's frame (w, h): 3:2 like the photo's crop window."""
GIF_PANEL_WIDTH = 238
"""Each side of the GIF is shrunk to this width (two panels and the gap: 480 px), to keep the
file near 2 MB."""
RATE = 12
"""Frames a second of the clip and of the GIF (whose delays are whole hundredths: 0.08 s)."""
SECONDS = 3.5
START = (250.0, 240.0, 1.3)
"""The window's centre x, y (photo pixels) and zoom at the first frame (1: the photo's height)."""
END = (410.0, 250.0, 1.45)
"""... and at the last frame: 160 px to the right and a little down, 1.12 times closer."""


def window(i: int, count: int, photo_size: tuple[int, int]) -> np.ndarray:
    """Frame ``i`` of ``count``: the 3x3 affine matrix from photo pixels to frame pixels, the
    crop window moved smoothly from START to END (sub-pixel steps, so the camera glides)."""
    w_photo, h_photo = photo_size
    w, h = FRAME_SIZE
    t = i / (count - 1)
    cx, cy, zoom = (a + (b - a) * t for a, b in zip(START, END, strict=True))
    scale = zoom * h / h_photo  # frame pixels per photo pixel
    half_w, half_h = w / 2 / scale, h / 2 / scale
    if not (half_w <= cx <= w_photo - half_w and half_h <= cy <= h_photo - half_h):
        raise ValueError(f"frame {i}: the crop window leaves the {w_photo}x{h_photo} photo")
    # the photo point (cx, cy) lands in the frame's middle
    return np.array([[scale, 0, w / 2 - scale * cx], [0, scale, h / 2 - scale * cy], [0, 0, 1]])


def pan_frames(photo: np.ndarray, count: int) -> list[np.ndarray]:
    """``count`` frames of FRAME_SIZE cut from ``photo`` by :func:`window`."""
    size = (photo.shape[1], photo.shape[0])
    return [
        cv2.warpAffine(photo, window(i, count, size)[:2], FRAME_SIZE, flags=cv2.INTER_LINEAR)
        for i in range(count)
    ]


def sky_steadiness(
    original: list[np.ndarray], replaced: list[np.ndarray], photo_size: tuple[int, int]
) -> tuple[float, float, float]:
    """How well the new sky stays attached to the scene: the mean absolute difference (0-255)
    of the replaced sky between consecutive frames with the camera's true move undone (mean and
    largest over the pairs), and the mean with it not undone (what a sky stuck to the frame
    would be compared against)."""
    w, h = FRAME_SIZE
    count = len(replaced)
    undone, kept = [], []
    for i in range(count - 1):
        step = (window(i + 1, count, photo_size) @ np.linalg.inv(window(i, count, photo_size)))[:2]
        before = replaced[i].astype(np.float32)
        now = replaced[i + 1].astype(np.float32)
        moved = cv2.warpAffine(before, step, (w, h))
        inside = cv2.warpAffine(np.ones((h, w), np.float32), step, (w, h)) > 0.99
        # the new sky: where replace changed the frame a lot, above the lit ground
        sky = np.abs(now - original[i + 1].astype(np.float32)).sum(axis=2) > 60
        sky[int(0.8 * h) :] = False
        keep = inside & sky
        undone.append(float(np.abs(moved - now).mean(axis=2)[keep].mean()))
        kept.append(float(np.abs(before - now).mean(axis=2)[keep].mean()))
    return float(np.mean(undone)), float(np.max(undone)), float(np.mean(kept))


def labelled(
    left: np.ndarray, right: np.ndarray, sky: str, width: int = GIF_PANEL_WIDTH, above: bool = False
) -> np.ndarray:
    """The two frames shrunk to ``width``, side by side (or the original ``above``) with a
    caption band above each."""
    band_h, gap = 18, 4
    cells = []
    size = (width, round(left.shape[0] * width / left.shape[1]))
    left, right = (cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in (left, right))
    for image, text in ((left, "original clip"), (right, f"skyseg replace --sky {sky}")):
        band = np.full((band_h, image.shape[1], 3), 255, np.uint8)
        cv2.putText(band, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
        cells.append(np.concatenate([band, image], axis=0))
    axis = 0 if above else 1
    spacer_shape = (gap, cells[0].shape[1], 3) if above else (cells[0].shape[0], gap, 3)
    return np.concatenate([cells[0], np.full(spacer_shape, 255, np.uint8), cells[1]], axis=axis)


def cut_clip(source: Path, out: Path, start: float, seconds: float) -> Path:
    """Frames from ``start`` to ``start + seconds`` (seconds from the first frame) of ``source``
    written to ``out`` at the source's rate and colour tags (CRF 14: near the source's own
    quality), without audio; the timestamps start at zero."""
    from skyseg_core.video import VideoReader, VideoWriter

    with VideoReader(source) as clip:
        first = round(start * clip.info.rate)
        count = round(seconds * clip.info.rate)
        if first + count > clip.info.frames:
            raise SystemExit(
                f"{source} has {clip.info.frames} frames; {first}..{first + count} asked for"
            )
        with VideoWriter(out, clip.info, crf=14) as writer:
            origin = None
            for index, frame in clip:
                if index >= first + count:
                    break
                if index >= first:
                    origin = clip.pts[index] if origin is None else origin
                    writer.write(frame, clip.pts[index] - origin)
    return out


def write_gif(path: Path, frames: list[np.ndarray], rate: float) -> None:
    """A looping GIF with one palette for every frame (a palette per frame flickers), written
    beside ``path`` and moved into place."""
    sample = np.concatenate(frames[:: max(1, len(frames) // 8)], axis=0)
    palette = Image.fromarray(sample).quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    images = [
        Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE) for f in frames
    ]
    part = path.with_name(f".{path.name}.part")
    images[0].save(
        part,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=round(1000 / rate),
        loop=0,
        optimize=True,
    )
    os.replace(part, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "video_pan.gif")
    parser.add_argument("--sky", default="clouds", help="a bundled sky's name (assets/skies)")
    parser.add_argument(
        "--keep", type=Path, help="also keep both clips (pan.mp4, pan_replaced.mp4) here"
    )
    parser.add_argument(
        "--clip", type=Path, help="a real video to cut a few seconds from instead of the pan"
    )
    parser.add_argument("--start", type=float, default=0.0, help="--clip: from this second")
    parser.add_argument("--seconds", type=float, default=3.0, help="--clip: this long")
    parser.add_argument(
        "--every", type=int, default=2, help="--clip: one frame in this many goes into the GIF"
    )
    parser.add_argument(
        "--width", type=int, default=304, help="--clip: each panel's width in the GIF (stacked)"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from tests.videoclips import read_clip, write_clip

    with tempfile.TemporaryDirectory() as tmp:
        if args.clip:
            clip = cut_clip(args.clip, Path(tmp) / "pan.mp4", args.start, args.seconds)
        else:
            photo = np.asarray(Image.open(PHOTO).convert("RGB"))
            frames = pan_frames(photo, round(SECONDS * RATE))
            photo_size = (photo.shape[1], photo.shape[0])
            clip = write_clip(Path(tmp) / "pan.mp4", frames, rate=RATE, crf=14)
        replaced_path = Path(tmp) / "pan_replaced.mp4"
        skyseg = Path(sys.executable).with_name("skyseg")
        command = [str(skyseg), "replace", str(clip), "--sky", args.sky, "-o", str(replaced_path)]
        subprocess.run(command, check=True)
        original, facts = read_clip(clip)
        replaced, _ = read_clip(replaced_path)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for made in (clip, replaced_path):
                shutil.copyfile(made, args.keep / made.name)
    if len(replaced) != len(original):
        raise SystemExit(f"replace gave {len(replaced)} frames for {len(original)}")
    if args.clip:
        # one frame in `every`, shown `every` times as long: the clip keeps its speed
        pairs = list(zip(original, replaced, strict=True))[:: args.every]
        rate = float(facts["info"].rate) / args.every
        panels = [labelled(a, b, args.sky, args.width, above=True) for a, b in pairs]
    else:
        rate = RATE
        panels = [labelled(a, b, args.sky) for a, b in zip(original, replaced, strict=True)]
    write_gif(args.out, panels, rate)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({len(panels)} frames, {size / 1e6:.2f} MB)")
    if args.clip:  # no known camera move to undo
        return 0
    mean, largest, kept = sky_steadiness(original, replaced, photo_size)
    print(
        f"new sky between consecutive frames, camera move undone: {mean:.2f} (largest {largest:.2f})"
        f", not undone: {kept:.2f} (mean absolute difference, 0-255)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
