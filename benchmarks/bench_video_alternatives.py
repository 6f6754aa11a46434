"""Issue 28: what else was tried against the flicker and the close-crop misses, and why it is not
in; over 400 lines as every alternative tried stays here, measured the same way.

    python -m benchmarks.bench_video_alternatives [--photos 12] [--only NAME,...] [--stage NAME] [--no-write]
    python -m benchmarks.bench_video_alternatives --stages [--photos 12] [--no-write]
    python -m benchmarks.bench_video_alternatives --network-time

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
- ``enlarged``: the network on the frame enlarged to its working size (``enlarge_small``);
- ``flip average``: the network's probability averaged with that of the mirrored frame
  (``flip_average``; the network twice); ``flip where uncertain``: the average taken only where
  the frame's own probability is uncertain (``|2 p - 1| <= 0.8``), the rest as it is;
- ``coarse memory``: a running average of the network's probability (logits) in aligned
  coordinates over up to 16 frames (the temporal stage's alignment and trust), the detail stage
  run per frame on it.

``--stage NAME`` (one of STAGES below) runs the temporal stage that way after each alternative
(default ``shipped``); its rows are named ``alternative + stage``. Each run also prints each
pan's figures and the milliseconds a frame of the network and detail stages and of the temporal
stage on stderr (rough: other work on the machine shows in them; ``--network-time`` times the
network alone, the fastest of 15 runs).

``--stages`` keeps the network's mattes as shipped (each pan's frames segmented once) and changes
how the temporal stage combines a frame's matte with the aligned previous one
(:meth:`skyseg_core.temporal.TemporalStage.combine`); it writes the section "The temporal
stage's decision" of the same file:

- ``shipped``: :func:`skyseg_core.temporal.blend`;
- ``hysteresis M``: where the blend is within ``M`` of 0.5 on the other side of the aligned
  previous decision (trusted, carried over), the previous decision stays (the value just on
  its side of 0.5); ``hysteresis 0.1, kept value``: the aligned previous value itself;
- ``confidence ^2`` / ``^3``: each matte's confidence weight ``0.25 + |2 m - 1|`` raised to
  that power (an uncertain per-frame value counts for less against a certain history);
- ``logit blend`` / ``logit blend, memory 16``: the mattes averaged as logits (which weighs a
  certain value more by itself), the previous one weighted by its trust and age (up to 8 or 16);
- ``edge-weighted views``: a frame's matte counts for less near the frame's edges (linearly from
  0.1 at the edge to 1 at a quarter of the frame's shorter side in), where the network saw the
  least of the scene around a pixel; the age a pixel gathers is the sum of those weights.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

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


def _flipped(uncertain: float):
    """The probability averaged with the mirrored frame's where ``|2 p - 1| <= uncertain``."""

    def coarse(method, frame):
        prob = method.coarse(frame)
        mirrored = method.coarse(np.ascontiguousarray(frame[:, ::-1]))[:, ::-1]
        averaged = 0.5 * (prob + mirrored)
        return np.where(np.abs(2.0 * prob - 1.0) <= uncertain, averaged, prob).astype(np.float32)

    return coarse


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1.0 - 1e-4)
    return np.log(p / (1.0 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)


class _CoarseMemory:
    """A running average of the network's logits, moved by the camera like the stage's matte
    (the stage's alignment and trust reused as they are)."""

    def __init__(self, memory: float = 16.0):
        self.stage = TemporalStage(memory=memory)
        self.grey = self.logits = self.age = None

    def __call__(self, method, frame):
        from skyseg_core.temporal import _grey_small, flow_size

        logits = _logit(method.coarse(frame)).astype(np.float32)
        grey = _grey_small(frame, flow_size(frame.shape[:2], self.stage.flow_size))
        moved = None
        if self.logits is not None and self.logits.shape == logits.shape:
            moved = self.stage.align(grey, self.grey, self.logits, self.age)
        if moved is None:  # the first frame or a cut
            self.grey, self.logits, self.age = grey, logits, np.ones_like(logits)
            return _sigmoid(logits)
        aligned, age, trust = moved
        weight = np.minimum(age, self.stage.memory) * trust
        self.logits = ((logits + weight * aligned) / (1.0 + weight)).astype(np.float32)
        self.grey, self.age = grey, (trust * age + 1.0).astype(np.float32)
        return _sigmoid(self.logits)


ALTERNATIVES = {
    "frame": lambda: lambda method, frame: method.coarse(frame),
    "context 15 %": lambda: _context(0.15),
    "context 25 %": lambda: _context(0.25),
    "past frames": _PastFrames,
    "coarse steadied": _CoarseSteadied,
    "half size": lambda: _half_size,
    "enlarged": lambda: _enlarged,
    "flip average": lambda: _flipped(1.0),
    "flip where uncertain": lambda: _flipped(0.8),
    "coarse memory": _CoarseMemory,
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


class _LogitBlend(TemporalStage):
    def combine(self, matte, aligned, trust, weight):
        w = weight * trust
        return _sigmoid((_logit(matte) + w * _logit(aligned)) / (1.0 + w))


class _EdgeWeighted(TemporalStage):
    def __call__(self, image, matte):
        from skyseg_core.temporal import _grey_small, flow_size

        h, w = matte.shape
        reach = 0.25 * min(h, w)
        rows = np.minimum(np.arange(h), np.arange(h)[::-1]) + 0.5
        cols = np.minimum(np.arange(w), np.arange(w)[::-1]) + 0.5
        inward = np.clip(np.minimum(rows[:, None], cols[None, :]) / reach, 0.0, 1.0)
        view = (0.1 + 0.9 * inward).astype(np.float32)
        grey = _grey_small(image, flow_size((h, w), self.flow_size))
        moved = None
        if self._prev_matte is not None and self._prev_matte.shape == matte.shape:
            moved = self.align(grey, self._prev_grey, self._prev_matte, self._age)
        if moved is None:
            self._prev_grey, self._prev_matte, self._age = grey, matte, view
            return matte
        aligned, age, trust = moved
        c_cur = (0.25 + np.abs(2.0 * matte - 1.0)) * view
        c_prev = (0.25 + np.abs(2.0 * aligned - 1.0)) * np.minimum(age, self.memory) * trust
        out = ((c_cur * matte + c_prev * aligned) / (c_cur + c_prev)).astype(np.float32)
        self._prev_grey, self._prev_matte, self._age = grey, out, trust * age + view
        return out


STAGES = {
    "shipped": TemporalStage,
    "hysteresis 0.05": lambda: _Hysteresis(0.05),
    "hysteresis 0.1": lambda: _Hysteresis(0.1),
    "hysteresis 0.2": lambda: _Hysteresis(0.2),
    "hysteresis 0.1, kept value": lambda: _Hysteresis(0.1, keep_value=True),
    "confidence ^2": lambda: _Confidence(2.0),
    "confidence ^3": lambda: _Confidence(3.0),
    "logit blend": _LogitBlend,
    "logit blend, memory 16": lambda: _LogitBlend(memory=16.0),
    "edge-weighted views": _EdgeWeighted,
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


def measure(name: str, photos: list[str], stage_name: str = "shipped") -> dict:
    """Means over the pans of ``photos`` (both kinds) and the pans above 0.3 % flips; the
    temporal stage is STAGES[``stage_name``]. ``found["seconds"]``: (network and detail,
    temporal stage, frames)."""
    from skyseg_core.detail import detail_matte, shipped_detail_model
    from skyseg_core.methods import get_method, resolve_name
    from skyseg_core.refine import refine
    from tests.videoclips import load_pair, pan, pan_scores

    method, model = get_method(resolve_name("auto")), shipped_detail_model()
    if model is None:
        raise SystemExit("the detail model is missing")
    found: dict = {}
    seconds = [0.0, 0.0, 0]
    for kind, (size, step) in PAN_KINDS.items():
        for rel in photos:
            mask = load_pair(rel)[1]
            p = pan(size, step, min(16, (mask.shape[1] - size[0]) // step[0] + 1), rel)
            coarse = ALTERNATIVES[name]()
            per = []
            t0 = time.perf_counter()
            for frame in p.frames:
                matte = detail_matte(frame, coarse(method, frame), model)
                if matte.shape != frame.shape[:2]:
                    matte = refine(frame, matte, working_size=model.working_size)
                per.append(matte)
            t1 = time.perf_counter()
            stage = STAGES[stage_name]()
            steady = [stage(f, m) for f, m in zip(p.frames, per, strict=True)]
            seconds[0] += t1 - t0
            seconds[1] += time.perf_counter() - t1
            seconds[2] += len(p.frames)
            scores = {"per frame": pan_scores(per, p.truth, step)}
            scores["temporal"] = pan_scores(steady, p.truth, step)
            for label, (flipped, iou) in scores.items():
                found.setdefault((kind, label), []).append((flipped, iou))
            per_pan = ", ".join(f"{k}: {100 * f:.2f} % {i:.4f}" for k, (f, i) in scores.items())
            print(f"  {name}, {Path(rel).stem}, {kind}: {per_pan}", file=sys.stderr, flush=True)
    found["seconds"] = tuple(seconds)
    return found


def network_time(repeats: int = 15) -> None:
    """The network's milliseconds on a pan's 200x150 frame and on it enlarged to 1920x1080,
    once and with the mirrored frame (what flip averaging costs), the fastest of ``repeats``
    runs taken in turns."""
    from skyseg_core.methods import get_method, resolve_name
    from tests.videoclips import pan

    method = get_method(resolve_name("auto"))
    small = pan((200, 150), (8, 0), 1).frames[0]
    for frame in (small, cv2.resize(small, (1920, 1080), interpolation=cv2.INTER_LINEAR)):
        mirrored = np.ascontiguousarray(frame[:, ::-1])
        once = twice = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            method.coarse(frame)
            t1 = time.perf_counter()
            method.coarse(frame)
            method.coarse(mirrored)
            once, twice = min(once, t1 - t0), min(twice, time.perf_counter() - t1)
        h, w = frame.shape[:2]
        print(
            f"{w}x{h}: the network {1000 * once:.1f} ms, with the mirrored frame {1000 * twice:.1f} ms"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--only", default=",".join(ALTERNATIVES))
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--stages", action="store_true", help="the temporal stage's alternatives instead"
    )
    parser.add_argument("--stage", default="shipped", choices=list(STAGES))
    parser.add_argument(
        "--network-time", action="store_true", help="what running the network twice costs"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.network_time:
        network_time()
        return 0
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
            found = measure(name, chosen, args.stage)
            net, temporal, frames = found["seconds"]
            print(
                f"{name} ({label}): {1000 * net / frames:.1f} ms a frame for the network and "
                f"detail, {1000 * temporal / frames:.1f} ms for the temporal stage",
                file=sys.stderr,
                flush=True,
            )
            for kind in PAN_KINDS:
                cells = []
                for stage in ("per frame", "temporal"):
                    values = np.array(found[(kind, stage)])
                    cells.append(
                        f"{100 * values[:, 0].mean():.2f} % | {values[:, 1].mean():.4f} | "
                        f"{int((values[:, 0] > 0.003).sum())}"
                    )
                row = name if args.stage == "shipped" else f"{name} + {args.stage}"
                lines.append(f"| {row} | {label} | {kind} | {' | '.join(cells)} |")
                print(lines[-1], flush=True)
    if not args.no_write and names == list(ALTERNATIVES) and args.stage == "shipped":
        before = RESULTS.read_text() if RESULTS.exists() else ""
        stages = before[before.index(STAGES_HEADING) :] if STAGES_HEADING in before else ""
        RESULTS.write_text("\n".join(lines) + "\n" + (f"\n{stages}" if stages else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
