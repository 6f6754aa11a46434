"""Issue 28: what else was tried against the flicker and the close-crop misses, and why it is not in.

    python -m benchmarks.bench_video_alternatives [--photos 12] [--only NAME,...] [--no-write]
    python -m benchmarks.bench_video_alternatives --stages [--photos 12] [--no-write]

Each alternative changes how the network's coarse matte of a frame is made (the detail stage
and the temporal stage then run as in the clip path); each is measured on the pans of
``benchmarks.bench_video`` (flips and IoU, per frame and with the temporal stage; the pans above
0.3 % flips) over the first ``--photos`` photos and over the next ones (held out: what wins on
the first must win there too). Writes ``benchmarks/video_alternatives.md`` (a full run); the
findings are in docs/video.md.

- ``frame``: the clip path as shipped (the network on the frame, shrunk to its working size);
- ``context 15 %`` / ``context 25 %``: the frame mirrored outwards by that share of each side
  before the network (more context at the same scale), the matte cropped back;
- ``past frames``: the network on a shared window, the frame with a margin of half its size on
  each side filled from the previous frames moved by the camera's motion (a running mosaic;
  never-seen pixels inpainted);
- ``coarse steadied``: the temporal stage also on the network's coarse matte, before the detail
  stage decides the band;
- ``half size``: the network on the frame shrunk to half (the scale the still photo is seen at);
- ``enlarged``: the network on the frame enlarged to its working size (``enlarge_small``).

``--stages`` keeps the network's mattes as shipped (each pan's frames segmented once) and changes
how the temporal stage combines a frame's matte with the aligned previous one
(:meth:`skyseg_core.temporal.TemporalStage.combine`); it writes the section "The temporal
stage's decision" of the same file:

- ``shipped``: :func:`skyseg_core.temporal.blend`;
- ``hysteresis M``: where the blend is within ``M`` of 0.5 on the other side of the aligned
  previous decision (trusted, carried over), the previous decision stays (the value just on
  its side of 0.5); ``hysteresis 0.1, kept value``: the aligned previous value itself;
- ``confidence ^2`` / ``^3``: each matte's confidence weight ``0.25 + |2 m - 1|`` raised to
  that power (an uncertain per-frame value counts for less against a certain history).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import cv2
import numpy as np

from benchmarks.bench_video import HERE, PAN_KINDS, ROOT, pan_photos
from skyseg_core.temporal import TemporalStage, blend

RESULTS = HERE / "video_alternatives.md"


def _context(fraction: float):
    def coarse(method, frame):
        h, w = frame.shape[:2]
        py, px = round(h * fraction), round(w * fraction)
        padded = cv2.copyMakeBorder(frame, py, py, px, px, cv2.BORDER_REFLECT_101)
        prob = method.coarse(padded)
        prob = cv2.resize(prob, (padded.shape[1], padded.shape[0]))
        return np.ascontiguousarray(prob[py : py + h, px : px + w])

    return coarse


class _PastFrames:
    """The network on the frame plus a margin filled from the previous frames."""

    def __init__(self, margin: float = 0.5):
        self.margin = margin
        self.canvas = self.valid = self.grey = None

    def __call__(self, method, frame):
        from skyseg_core.matte import to_float_rgb
        from skyseg_core.methods._base import resize_long_side
        from skyseg_core.motion import estimate_motion
        from skyseg_core.temporal import TEMPORAL_CUT, photometric_error

        small = resize_long_side(frame, method.working_size)
        h, w = small.shape[:2]
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        mx, my = round(self.margin * w), round(self.margin * h)
        size = (w + 2 * mx, h + 2 * my)
        to_canvas = np.array([[1.0, 0, mx], [0, 1.0, my], [0, 0, 1.0]])
        canvas = np.zeros((size[1], size[0], 3), np.uint8)
        valid = np.zeros((size[1], size[0]), np.uint8)
        if self.canvas is not None and self.canvas.shape[:2] == canvas.shape[:2]:
            move = estimate_motion(self.grey, grey).matrix
            if float(np.median(photometric_error(self.grey, grey, move))) <= TEMPORAL_CUT:
                step = to_canvas @ move @ np.linalg.inv(to_canvas)
                canvas = cv2.warpPerspective(self.canvas, step, size, flags=cv2.INTER_LINEAR)
                valid = cv2.warpPerspective(self.valid, step, size, flags=cv2.INTER_NEAREST)
                valid = cv2.erode(valid, np.ones((3, 3), np.uint8))
        canvas[my : my + h, mx : mx + w], valid[my : my + h, mx : mx + w] = small, 1
        self.canvas, self.valid, self.grey = canvas, valid, grey
        rows, cols = np.flatnonzero(valid.any(axis=1)), np.flatnonzero(valid.any(axis=0))
        y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        window, seen = canvas[y0:y1, x0:x1], valid[y0:y1, x0:x1]
        if not seen.all():
            window = cv2.inpaint(window, (seen == 0).astype(np.uint8), 3, cv2.INPAINT_TELEA)
        prob = method.predict(to_float_rgb(window))
        return np.ascontiguousarray(prob[my - y0 : my - y0 + h, mx - x0 : mx - x0 + w])


def _half_size(method, frame):
    h, w = frame.shape[:2]
    small = cv2.resize(frame, (max(8, w // 2), max(8, h // 2)), interpolation=cv2.INTER_AREA)
    return method.coarse(small)


def _enlarged(method, frame):
    method.enlarge_small = True
    try:
        return method.coarse(frame)
    finally:
        method.enlarge_small = False


class _CoarseSteadied:
    def __init__(self):
        from skyseg_core.temporal import TemporalStage

        self.stage = TemporalStage()

    def __call__(self, method, frame):
        return self.stage(frame, method.coarse(frame))


ALTERNATIVES = {
    "frame": lambda: lambda method, frame: method.coarse(frame),
    "context 15 %": lambda: _context(0.15),
    "context 25 %": lambda: _context(0.25),
    "past frames": _PastFrames,
    "coarse steadied": _CoarseSteadied,
    "half size": lambda: _half_size,
    "enlarged": lambda: _enlarged,
}
"""Name -> a maker of ``coarse(method, frame)`` (a new one per pan: some keep state)."""


class _Hysteresis(TemporalStage):
    def __init__(self, margin: float, keep_value: bool = False):
        super().__init__()
        self.margin, self.keep_value = margin, keep_value

    def combine(self, matte, aligned, trust, weight):
        out = blend(matte, aligned, trust, weight)
        was_sky = aligned >= 0.5
        held = (
            (np.abs(out - 0.5) < self.margin)
            & ((out >= 0.5) != was_sky)
            & (trust * np.minimum(weight, 1.0) > 0.5)
        )
        kept = aligned if self.keep_value else np.where(was_sky, 0.5, 0.499)
        return np.where(held, kept, out).astype(np.float32)


class _Confidence(TemporalStage):
    def __init__(self, power: float):
        super().__init__()
        self.power = power

    def combine(self, matte, aligned, trust, weight):
        c_cur = (0.25 + np.abs(2.0 * matte - 1.0)) ** self.power
        c_prev = (0.25 + np.abs(2.0 * aligned - 1.0)) ** self.power * (weight * trust)
        out = (c_cur * matte + c_prev * aligned) / (c_cur + c_prev)
        return np.clip(out, 0.0, 1.0).astype(np.float32)


STAGES = {
    "shipped": TemporalStage,
    "hysteresis 0.05": lambda: _Hysteresis(0.05),
    "hysteresis 0.1": lambda: _Hysteresis(0.1),
    "hysteresis 0.2": lambda: _Hysteresis(0.2),
    "hysteresis 0.1, kept value": lambda: _Hysteresis(0.1, keep_value=True),
    "confidence ^2": lambda: _Confidence(2.0),
    "confidence ^3": lambda: _Confidence(3.0),
}
"""Name -> a maker of a temporal stage (a new one per pan)."""
STAGES_HEADING = "## The temporal stage's decision (`--stages`)"


def measure_stages(photos: list[str]) -> dict:
    """Per stage of STAGES, per pan kind: (flips, IoU) of each pan of ``photos``, the frames'
    own mattes as the clip path makes them (segmented once for all the stages)."""
    from skyseg_core.segment import segment
    from tests.videoclips import load_pair, pan, pan_scores

    found: dict = {}
    for kind, (size, step) in PAN_KINDS.items():
        for rel in photos:
            mask = load_pair(rel)[1]
            p = pan(size, step, min(16, (mask.shape[1] - size[0]) // step[0] + 1), rel)
            per = [segment(frame) for frame in p.frames]
            for name, make in STAGES.items():
                stage = make()
                mattes = [stage(f, m) for f, m in zip(p.frames, per, strict=True)]
                found.setdefault((name, kind), []).append(pan_scores(mattes, p.truth, step))
    return found


def stages_section(photos: int) -> list[str]:
    """The ``--stages`` table: each stage on the first and the held-out photos' pans."""
    chosen = pan_photos(2 * photos)
    lines = [
        STAGES_HEADING,
        "",
        f"{time.strftime('%Y-%m-%d')}. The network's mattes as shipped; only the temporal "
        "stage's combination of a frame's matte with the aligned previous one changes (the "
        "script's docstring says how). Means over each set's pans of each kind; `over 0.3 %`: "
        "pans above the bar. Kept only if the flips fall and no held-out IoU falls.",
        "",
        "| stage | photos | pan | flips | IoU | over 0.3 % |",
        "|---|---|---|---|---|---|",
    ]
    for label, subset in (("first", chosen[:photos]), ("held out", chosen[photos:])):
        found = measure_stages(subset)
        for name in STAGES:
            for kind in PAN_KINDS:
                values = np.array(found[(name, kind)])
                lines.append(
                    f"| {name} | {label} | {kind} | {100 * values[:, 0].mean():.2f} % | "
                    f"{values[:, 1].mean():.4f} | {int((values[:, 0] > 0.003).sum())} |"
                )
                print(lines[-1], flush=True)
    return lines


def measure(name: str, photos: list[str]) -> dict:
    """Means over the pans of ``photos`` (both kinds) and the pans above 0.3 % flips."""
    from skyseg_core.detail import detail_matte, shipped_detail_model
    from skyseg_core.methods import get_method, resolve_name
    from skyseg_core.refine import refine
    from skyseg_core.temporal import TemporalStage
    from tests.videoclips import load_pair, pan, pan_scores

    method, model = get_method(resolve_name("auto")), shipped_detail_model()
    if model is None:
        raise SystemExit("the detail model is missing")
    found: dict = {}
    for kind, (size, step) in PAN_KINDS.items():
        for rel in photos:
            mask = load_pair(rel)[1]
            p = pan(size, step, min(16, (mask.shape[1] - size[0]) // step[0] + 1), rel)
            coarse = ALTERNATIVES[name]()
            per = []
            for frame in p.frames:
                matte = detail_matte(frame, coarse(method, frame), model)
                if matte.shape != frame.shape[:2]:
                    matte = refine(frame, matte, working_size=model.working_size)
                per.append(matte)
            stage = TemporalStage()
            steady = [stage(f, m) for f, m in zip(p.frames, per, strict=True)]
            for label, mattes in (("per frame", per), ("temporal", steady)):
                found.setdefault((kind, label), []).append(pan_scores(mattes, p.truth, step))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--only", default=",".join(ALTERNATIVES))
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--stages", action="store_true", help="the temporal stage's alternatives instead"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.stages:
        section = stages_section(args.photos)
        if not args.no_write:
            kept = RESULTS.read_text().split(STAGES_HEADING)[0].rstrip("\n")
            RESULTS.write_text(kept + "\n\n" + "\n".join(section) + "\n")
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(names) - set(ALTERNATIVES))
    if unknown:
        parser.error(f"unknown alternative {', '.join(unknown)}; choose from {list(ALTERNATIVES)}")
    photos = pan_photos(2 * args.photos)
    sets = {"first": photos[: args.photos], "held out": photos[args.photos :]}
    lines = [
        "# What else was tried against the flicker (`python -m "
        "benchmarks.bench_video_alternatives`)",
        "",
        f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, default method (`auto`). The pans of "
        "[video.md](video.md) over the first and the next (held-out) "
        f"{args.photos} photos; means over each set's {args.photos} pans of each kind. The "
        "alternatives are described in the script's docstring; `frame` is the clip path as "
        "shipped.",
        "",
        "| alternative | photos | pan | per frame: flips | IoU | over 0.3 % | temporal: flips "
        "| IoU | over 0.3 % |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines))
    for name in names:
        for label, chosen in sets.items():
            found = measure(name, chosen)
            for kind in PAN_KINDS:
                cells = []
                for stage in ("per frame", "temporal"):
                    values = np.array(found[(kind, stage)])
                    cells.append(
                        f"{100 * values[:, 0].mean():.2f} % | {values[:, 1].mean():.4f} | "
                        f"{int((values[:, 0] > 0.003).sum())}"
                    )
                lines.append(f"| {name} | {label} | {kind} | {' | '.join(cells)} |")
                print(lines[-1], flush=True)
    if not args.no_write and names == list(ALTERNATIVES):
        before = RESULTS.read_text() if RESULTS.exists() else ""
        stages = before[before.index(STAGES_HEADING) :] if STAGES_HEADING in before else ""
        RESULTS.write_text("\n".join(lines) + "\n" + (f"\n{stages}" if stages else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
