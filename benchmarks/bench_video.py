"""Video and timelapse (issue 28); over 400 lines as each of its six sections makes and reports
its own measurement: steadiness and accuracy on pans (and held-out ones), forward moves, the
real dashcam clip, the foreground light over time, and speed on a 1080p clip.

    python -m benchmarks.bench_video [--photos 12] [--frames 24] [--only SECTIONS] [--no-write]

``--only steadiness`` (or ``held-out``, ``forward``, ``dashcam``, ``light``, ``speed``; comma-separated) runs
a part in seconds to a minute; only a full run writes the file.

Writes ``benchmarks/video.md`` (its last section, "Tried, not in", measured by other
commands, is kept). Not a registered case of ``benchmarks.run`` (a clip's run is
seconds long and its parts are timed from inside).

Steadiness: camera pans over real photos of ../shared/data/skyseg (tests/videoclips.py: a crop
window moved by a known step per frame, truth from the masks). For each pan: flips (the share
of pixels whose sky decision, matte >= 0.5, changes between consecutive frames once the
camera's move is undone, averaged over the pairs) and micro IoU over all frames (ignore pixels
left out), per frame alone and with the temporal stage; and the still photo's IoU (the whole
photo segmented, its matte cropped to each window) for comparison.

Held out: the same on the next ``--photos`` photos, means only (what is chosen on the first
ones must hold there too).

Forward motion: dashcam-like zooms over the same photos (crop windows shrinking around the
horizon's middle): flips, IoU, and the error of the motion the new sky is moved by.

Dashcam: flips on the real clip ../shared/data/video/annarbor.mp4 (when present).

Foreground light: how much the relit, colour-matched foreground of ``replace`` changes from
frame to frame on the pans, smoothed over time and worked out per frame.

Speed: a 1080p clip (a pan over a photo scaled up, H.264) through ``skyseg mask`` (PNG folder,
matte video) and ``skyseg replace``, timed with the parts (method, temporal stage, sky motion,
effect; the rest is decoding, encoding and writing).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "video.md"
PAN_KINDS = {"pan (8, 0)": ((200, 150), (8, 0)), "pan and tilt (5, 2)": ((200, 150), (5, 2))}
TRIED_HEADING = "## Tried, not in"
"""Where the file's part measured by other commands starts: a full run keeps it as it is."""


def pan_photos(count: int) -> list[str]:
    """The first ``count`` ADE20K photos (by name) with 15-70 % sky and a wide frame."""
    from PIL import Image

    from tests.videoclips import SKYSEG_DATA

    found = []
    for path in sorted((SKYSEG_DATA / "ade20k_skyopt_cvprw2020" / "images").glob("*.jpg")):
        mask = np.asarray(Image.open(str(path).replace("/images/", "/masks/")[:-4] + ".png"))
        if 0.15 < (mask == 255).mean() < 0.7 and mask.shape[1] >= 1.3 * mask.shape[0]:
            found.append(str(path.relative_to(SKYSEG_DATA)))
        if len(found) == count:
            break
    return found


def steadiness(photos: list[str], frames: int = 16) -> list[dict]:
    from skyseg_core.segment import segment
    from skyseg_core.temporal import TemporalStage
    from tests.videoclips import load_pair, micro_iou, pan, pan_scores

    rows = []
    for kind, (size, step) in PAN_KINDS.items():
        for rel in photos:
            image, mask = load_pair(rel)
            n = min(frames, (mask.shape[1] - size[0]) // step[0] + 1)
            try:
                p = pan(size=size, step=step, frames=n, relative=rel)
            except ValueError:
                continue
            still = segment(image)
            per = [segment(f) for f in p.frames]
            stage = TemporalStage()
            steady = [stage(f, m) for f, m in zip(p.frames, per, strict=True)]

            w, h = size
            still_iou = micro_iou([still[y : y + h, x : x + w] for x, y in p.origins], p.truth)
            f_per, i_per = pan_scores(per, p.truth, step)
            f_tem, i_tem = pan_scores(steady, p.truth, step)
            rows.append(
                {
                    "kind": kind,
                    "photo": Path(rel).stem,
                    "frames": n,
                    "still_iou": still_iou,
                    "flips": f_per,
                    "iou": i_per,
                    "flips_temporal": f_tem,
                    "iou_temporal": i_tem,
                }
            )
            print(rows[-1], file=sys.stderr, flush=True)
    return rows


def light(photos: list[str], frames: int = 16) -> list[dict]:
    """How much the foreground's light pulses under ``replace`` (defaults, golden_hour sky, the
    sky moving with the camera): the per-channel gain of the output over the input on the
    ground (mask 0), and its change from frame to frame."""
    from skyseg_core.clips import FrameMattes, FrameRenderer
    from skyseg_core.effects import ReplaceParams
    from skyseg_core.pipeline import MatteSource
    from skyseg_core.temporal import LightSmoother
    from tests.videoclips import pan

    size, step = PAN_KINDS["pan and tilt (5, 2)"]
    rows = []
    for rel in photos:
        p = pan(size=size, step=step, frames=frames, relative=rel)
        mattes = FrameMattes(MatteSource(), True)
        matted = [mattes(frame) for frame in p.frames]
        row: dict = {"photo": Path(rel).stem}
        for label, weight in (("", 1.0), ("_smoothed", None)):
            render = FrameRenderer(
                [ReplaceParams(sky="golden_hour")],
                sky_motion="camera",
                **({} if weight is None else {"light_weight": weight}),
            )
            gains = []
            trace: list = []
            render.light = render.light or LightSmoother(1.0)  # 1.0: records, leaves as is
            render.light.trace = trace
            for frame, matte, truth in zip(p.frames, matted, p.truth, strict=True):
                out = render(frame, matte).astype(np.float32)
                ground = truth == 0
                before = np.maximum(frame.astype(np.float32)[ground].mean(axis=0), 1.0)
                gains.append(out[ground].mean(axis=0) / before)
            change = np.abs(np.diff(np.array(gains), axis=0))
            row["params" + label] = light_change(trace)
            row["gain" + label] = np.mean(gains, axis=0)
            row["mean" + label] = float(change.mean())
            row["max" + label] = float(change.max())
        rows.append(row)
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def light_change(trace: list) -> float:
    """Mean relative change from one frame to the next of the light parameters the effects
    used (every gain, exposure and contrast of relight and colour match), from a
    :class:`~skyseg_core.temporal.LightSmoother` trace."""
    series: dict = {}
    for kind, _, used in trace:
        for key, value in used.items():
            series.setdefault((kind, key), []).append(np.atleast_1d(value))
    changes = [np.abs(np.diff(np.log(np.array(v)), axis=0)) for v in series.values()]
    return float(np.mean(np.concatenate([c.ravel() for c in changes])))


def zoom_frames(rel: str, frames: int = 16, size=(200, 150), shrink: float = 0.97):
    """A forward (dashcam-like) move over a real photo: crop windows shrinking by ``shrink`` a
    frame around the middle of the horizon, each resized to ``size``. Returns the frames, their
    truth masks and each frame-to-frame motion (2x3, frame i -> i + 1 pixels)."""
    import cv2

    from tests.videoclips import load_pair

    image, mask = load_pair(rel)
    H, W = mask.shape
    w, h = size
    sky_rows = (mask == 255).mean(axis=1)
    horizon = int(np.clip(np.flatnonzero(sky_rows > 0.5).max(initial=H // 2), h, H - h))
    cx, cy = W / 2.0, float(horizon)
    s0 = min(0.9 * W / w, 2.0 * min(cy, H - cy) / h * 0.95)  # photo pixels per frame pixel
    out, truth, scales, origins = [], [], [], []
    for i in range(frames):
        s = s0 * shrink**i
        ox, oy = cx - s * w / 2.0, cy - s * h / 2.0
        to_frame = np.array([[1 / s, 0, -ox / s], [0, 1 / s, -oy / s]])
        out.append(cv2.warpAffine(image, to_frame, size, flags=cv2.INTER_AREA))
        truth.append(cv2.warpAffine(mask, to_frame, size, flags=cv2.INTER_NEAREST))
        scales.append(s)
        origins.append((ox, oy))
    steps = []
    for i in range(frames - 1):
        (ox, oy), s = origins[i], scales[i]
        (nx, ny), n = origins[i + 1], scales[i + 1]
        steps.append(np.array([[s / n, 0, (ox - nx) / n], [0, s / n, (oy - ny) / n]]))
    return out, truth, steps


def forward(photos: list[str], frames: int = 16) -> list[dict]:
    """Flips and IoU on forward (zoom) moves, per frame and with the temporal stage, and how
    far the sky's estimated motion (:class:`~skyseg_core.skymotion.SkyMotion`, as ``replace``
    moves the new sky) is from the true one: the largest error at the frame's corners, px."""
    import cv2

    from skyseg_core.segment import segment
    from skyseg_core.skymotion import SkyMotion
    from skyseg_core.temporal import TemporalStage
    from tests.videoclips import micro_iou

    rows = []
    for rel in photos:
        images, truth, steps = zoom_frames(rel, frames)
        h, w = truth[0].shape
        per = [segment(f) for f in images]
        stage = TemporalStage()
        steady = [stage(f, m) for f, m in zip(images, per, strict=True)]
        row: dict = {"photo": Path(rel).stem, "frames": frames}
        for label, mattes in (("", per), ("_temporal", steady)):
            fl = []
            for a, b, step in zip(mattes, mattes[1:], steps, strict=False):
                moved = cv2.warpAffine(a, step, (w, h), flags=cv2.INTER_LINEAR)
                inside = cv2.warpAffine(np.ones_like(a), step, (w, h)) > 0.999
                fl.append(np.mean((moved[inside] >= 0.5) != (b[inside] >= 0.5)))
            row["flips" + label] = float(np.mean(fl))
            row["iou" + label] = micro_iou(mattes, truth)
        sky = SkyMotion()
        for f, m in zip(images, steady, strict=True):
            sky.update(f, m)
        corners = np.array([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1]], float).T
        errors = [
            float(np.abs((est[:2] @ corners) - (true @ corners)).max())
            for est, true in zip(sky.motions, steps, strict=True)
        ]
        row["motion_error_mean"], row["motion_error_max"] = float(np.mean(errors)), max(errors)
        rows.append(row)
        print(row, file=sys.stderr, flush=True)
    return rows


def speed(frames: int, folder: Path, repeat: int = 2) -> dict:
    from skyseg_core.clips import (
        FrameMattes,
        FrameRenderer,
        mask_clip_to_folder,
        mask_clip_to_video,
        render_clip,
    )
    from skyseg_core.effects import ReplaceParams
    from skyseg_core.pipeline import MatteSource
    from skyseg_core.segment import segment
    from tests.videoclips import pan, write_clip

    p = pan(size=(1920, 1080), step=(8, 0), frames=frames, scale=3.5, start=(0, 16))
    clip = write_clip(folder / "pan1080.mp4", p.frames, crf=18)
    segment(p.frames[0])  # warm-up: the method's session is made once per process
    del p
    out: dict = {"frames": frames, "clip_mb": clip.stat().st_size / 1e6, "repeat": repeat}
    runs = [
        ("mask, PNG folder, temporal", "png", True, None),
        ("mask, PNG folder, per frame (--no-temporal)", "png", False, None),
        ("mask, matte video (.mkv, lossless)", "mkv", True, None),
        ("replace, sky moves with the camera", "mp4", True, "camera"),
        ("replace, --sky-motion still", "mp4", True, "still"),
        ("replace, per frame (--no-temporal), --sky-motion still", "mp4", False, "still"),
    ]
    for attempt in range(repeat):  # the runs take turns; the fastest of each is kept
        for i, (name, kind, temporal, motion) in enumerate(runs):
            mattes = FrameMattes(MatteSource(), temporal)
            target = folder / f"{attempt}-{i}"
            started = time.perf_counter()
            renderer = None
            if kind == "png":
                mask_clip_to_folder(clip, target, mattes)
            elif kind == "mkv":
                mask_clip_to_video(clip, target.with_suffix(".mkv"), mattes)
            else:
                renderer = FrameRenderer(
                    [ReplaceParams(sky="clouds")], sky_motion=motion or "camera"
                )
                render_clip(clip, target.with_suffix(".mp4"), mattes, renderer)
            wall = time.perf_counter() - started
            parts = dict(mattes.timings)
            if renderer is not None:
                parts.update(renderer.timings)
            if name not in out or wall < out[name]["seconds"]:
                out[name] = {"seconds": wall, "fps": frames / wall, **parts}
            print(name, wall, parts, file=sys.stderr, flush=True)
    return out


DASHCAM = ROOT.parent / "shared" / "data" / "video" / "annarbor.mp4"
"""The real dashcam clip (960x544, 206 frames; CC BY-NC-SA, never bundled)."""


def dashcam(frames: int = 60, every: int = 2) -> dict | None:
    """Flips on the real dashcam clip (no truth: the decision's steadiness only): ``frames``
    frames, every ``every``-th of the clip's start, per frame and with the temporal stage,
    consecutive mattes aligned by the similarity estimated between the frames (a forward
    camera is not one: the flips also count the parallax the model misses); the cuts found."""
    import cv2

    from skyseg_core.motion import estimate_motion, scaled
    from skyseg_core.segment import segment
    from skyseg_core.temporal import CutDetector, TemporalStage, _grey_small, flow_size
    from skyseg_core.video import VideoReader

    if not DASHCAM.is_file():
        return None
    images = []
    with VideoReader(DASHCAM) as clip:
        for index, frame in clip:
            if index % every == 0:
                images.append(frame)
            if len(images) == frames:
                break
    per = [segment(f) for f in images]
    stage = TemporalStage()
    steady = [stage(f, m) for f, m in zip(images, per, strict=True)]
    cuts = CutDetector()
    h, w = per[0].shape
    size = flow_size((h, w), 384)
    greys = [_grey_small(f, size) for f in images]
    moves = [
        scaled(estimate_motion(a, b).matrix, size[0] / w)
        for a, b in zip(greys, greys[1:], strict=False)
    ]
    out: dict = {"frames": len(images), "every": every, "cuts": sum(map(cuts, images))}
    for label, mattes in (("", per), ("_temporal", steady)):
        fl = []
        for a, b, move in zip(mattes, mattes[1:], moves, strict=False):
            moved = cv2.warpPerspective(a, move, (w, h), flags=cv2.INTER_LINEAR)
            inside = cv2.warpPerspective(np.ones_like(a), move, (w, h)) > 0.999
            fl.append(np.mean((moved[inside] >= 0.5) != (b[inside] >= 0.5)))
        out["flips" + label], out["max" + label] = float(np.mean(fl)), float(np.max(fl))
    print(out, file=sys.stderr, flush=True)
    return out


def _steadiness_lines(rows: list[dict], each: bool = True) -> list[str]:
    lines = [
        "| pan | photo | frames | still photo IoU | per frame: flips | IoU | temporal: flips "
        "| IoU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows if each else []:
        lines.append(
            f"| {r['kind']} | {r['photo']} | {r['frames']} | {r['still_iou']:.4f} | "
            f"{100 * r['flips']:.2f} % | {r['iou']:.4f} | {100 * r['flips_temporal']:.2f} % | "
            f"{r['iou_temporal']:.4f} |"
        )
    for kind in PAN_KINDS:
        sel = [r for r in rows if r["kind"] == kind]
        if not sel:
            continue

        def mean(key, sel=sel):
            return float(np.mean([r[key] for r in sel]))

        over = sum(r["flips_temporal"] > 0.003 for r in sel)
        lines.append(
            f"| **{kind}, mean of {len(sel)}** | | | {mean('still_iou'):.4f} | "
            f"{100 * mean('flips'):.2f} % | {mean('iou'):.4f} | "
            f"{100 * mean('flips_temporal'):.2f} % | {mean('iou_temporal'):.4f} |"
        )
        lines.append(
            f"| {kind}: pans above 0.3 % flips | | | | "
            f"{sum(r['flips'] > 0.003 for r in sel)} | | {over} | |"
        )
    return lines


def report(
    rows: list[dict] | None = None,
    timing: dict | None = None,
    lit: list[dict] | None = None,
    ahead: list[dict] | None = None,
    held_out: list[dict] | None = None,
    real: dict | None = None,
) -> str:
    """``benchmarks/video.md``: the sections that were run."""
    lines = [
        "# Video and timelapse (`python -m benchmarks.bench_video`)",
        "",
        f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, default method (`auto`), load average at the end "
        f"{os.getloadavg()[0]:.1f} (a shared machine).",
    ]
    if rows:
        lines += [
            "",
            "## Steadiness and accuracy on pans over real photos",
            "",
            "Flips: share of pixels whose sky decision changes between consecutive frames after "
            "undoing the camera's move (mean over the pairs). IoU: micro IoU over all frames of "
            "the pan against the mask crops. Still photo: the whole photo segmented once, its "
            "matte cropped to each window.",
            "",
            *_steadiness_lines(rows),
        ]
    if held_out:
        lines += [
            "",
            f"### The next {len(held_out) // len(PAN_KINDS)} photos (a check that nothing is "
            "fitted to the first ones)",
            "",
            *_steadiness_lines(held_out, each=False),
        ]
    if ahead:
        lines += [
            "",
            "## Forward motion (a dashcam-like zoom over real photos)",
            "",
            "Crop windows shrinking by 3 % a frame around the middle of the horizon, each "
            "resized to 200x150 (16 frames: the last window is 0.63 times the first). Flips are "
            "counted after moving the previous matte by the true zoom. Sky motion: the largest "
            "error, at the frame's corners, of the motion `replace` moves the new sky by "
            "(`SkyMotion`, tracks on the ground below the horizon) against the true one.",
            "",
            "| photo | per frame: flips | IoU | temporal: flips | IoU | sky motion error, "
            "mean | largest |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in ahead:
            lines.append(
                f"| {r['photo']} | {100 * r['flips']:.2f} % | {r['iou']:.4f} | "
                f"{100 * r['flips_temporal']:.2f} % | {r['iou_temporal']:.4f} | "
                f"{r['motion_error_mean']:.2f} px | {r['motion_error_max']:.2f} px |"
            )

        def mean(key):
            return float(np.mean([r[key] for r in ahead]))

        lines.append(
            f"| **mean of {len(ahead)}** | {100 * mean('flips'):.2f} % | {mean('iou'):.4f} | "
            f"{100 * mean('flips_temporal'):.2f} % | {mean('iou_temporal'):.4f} | "
            f"{mean('motion_error_mean'):.2f} px | "
            f"{max(r['motion_error_max'] for r in ahead):.2f} px |"
        )
        over = sum(r["flips_temporal"] > 0.003 for r in ahead)
        lines.append(
            f"| moves above 0.3 % flips | {sum(r['flips'] > 0.003 for r in ahead)} "
            f"| | {over} | | | |"
        )
    if real:
        lines += [
            "",
            f"### The real dashcam clip (`{DASHCAM.name}`, {real['frames']} frames, one in "
            f"{real['every']} from its start)",
            "",
            "No truth: flips between consecutive mattes aligned by the similarity estimated "
            "between the frames (the parallax of a forward camera, which that model misses, "
            f"counts too). Cuts found: {real['cuts']}.",
            "",
            "| | flips, mean | largest |",
            "|---|---|---|",
            f"| per frame | {100 * real['flips']:.2f} % | {100 * real['max']:.2f} % |",
            f"| temporal | {100 * real['flips_temporal']:.2f} % | "
            f"{100 * real['max_temporal']:.2f} % |",
        ]
    if lit:
        lines += [
            "",
            "## Foreground light over time (`replace`, defaults, pan and tilt)",
            "",
            "Each frame's foreground is relit and colour-matched toward the new sky; the light "
            "parameters (relight's and colour match's gains, exposure and contrast) are "
            "smoothed over the frames (an exponential moving average, weight 0.2 for the "
            "current frame, reset at a cut) or, for comparison, taken from each frame alone "
            "(`FrameRenderer(light_weight=1)`). Parameters: their mean relative change from one "
            "frame to the next. Gain: the output's mean over the input's on the ground (mask "
            "0), per channel; its absolute change from one frame to the next (mean and largest "
            "over the pan's frame pairs and channels).",
            "",
            "| photo | gain R, G, B | per frame: parameters | gain change, mean | largest "
            "| smoothed: parameters | gain change, mean | largest |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in lit:
            gain = ", ".join(f"{g:.3f}" for g in r["gain_smoothed"])
            lines.append(
                f"| {r['photo']} | {gain} | {100 * r['params']:.3f} % | {100 * r['mean']:.2f} % "
                f"| {100 * r['max']:.2f} % | {100 * r['params_smoothed']:.3f} % | "
                f"{100 * r['mean_smoothed']:.2f} % | {100 * r['max_smoothed']:.2f} % |"
            )

        def avg(key):
            return float(np.mean([r[key] for r in lit]))

        lines.append(
            f"| **mean of {len(lit)}** | | {100 * avg('params'):.3f} % | "
            f"{100 * avg('mean'):.2f} % | {100 * max(r['max'] for r in lit):.2f} % | "
            f"{100 * avg('params_smoothed'):.3f} % | {100 * avg('mean_smoothed'):.2f} % | "
            f"{100 * max(r['max_smoothed'] for r in lit):.2f} % |"
        )
    if timing:
        frames = timing["frames"]
        lines += [
            "",
            f"## Speed on a 1080p clip ({frames} frames, H.264, {timing['clip_mb']:.1f} MB)",
            "",
            f"The fastest of {timing['repeat']} runs each, taken in turns (the method's session "
            "made beforehand). Seconds are for the whole run (decoding, the parts, encoding and "
            "writing); the parts are summed over the frames.",
            "",
            "| run | frames/s | s | method | temporal stage | sky motion | light's cut check "
            "| effect | temporal share |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, t in timing.items():
            if not isinstance(t, dict):
                continue
            lines.append(
                f"| {name} | {t['fps']:.2f} | {t['seconds']:.1f} | {t['matte']:.1f} | "
                f"{t['temporal']:.1f} | {t.get('motion', 0.0):.1f} | {t.get('light', 0.0):.1f} | "
                f"{t.get('render', 0.0):.1f} | {100 * t['temporal'] / t['seconds']:.1f} % |"
            )
    return "\n".join(lines) + "\n"


SECTIONS = ("steadiness", "held-out", "forward", "dashcam", "light", "speed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--frames", type=int, default=24, help="frames of the 1080p clip")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each timing")
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run, of {', '.join(SECTIONS)} (the file is written "
        "only when all run)",
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    sys.path.insert(0, str(ROOT))
    photos = pan_photos(2 * args.photos if "held-out" in only else args.photos)
    photos, others = photos[: args.photos], photos[args.photos :]
    rows = steadiness(photos) if "steadiness" in only else None
    held_out = steadiness(others) if "held-out" in only else None
    ahead = forward(photos) if "forward" in only else None
    real = dashcam() if "dashcam" in only else None
    lit = light(photos) if "light" in only else None
    timing = None
    if "speed" in only:
        with tempfile.TemporaryDirectory() as tmp:
            timing = speed(args.frames, Path(tmp), args.repeat)
    text = report(rows, timing, lit, ahead, held_out, real)
    print(text)
    if not args.no_write and set(only) == set(SECTIONS):
        before = RESULTS.read_text() if RESULTS.exists() else ""
        tried = before[before.index(TRIED_HEADING) :] if TRIED_HEADING in before else ""
        RESULTS.write_text(text + (f"\n{tried}" if tried else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
