"""Leave-one-dataset-out (LODO) micro IoU of the classical sky methods, refined.

    nice -n 19 .venv/bin/python scripts/lodo_classical.py                 # the README table
    nice -n 19 .venv/bin/python scripts/lodo_classical.py --step 3 --overlays /tmp/lodo

For each dataset group of ``../shared/data/skyseg`` (the two SkyFinder folders are one group,
``skyfinder``: they share cameras), a method is tuned or trained on every other group and scored
on the one left out; the table is micro IoU (pixels pooled over the held-out group's images,
matte >= 0.5 is sky, ignore label 128 excluded) of ``method.coarse`` followed by
:func:`skyseg_core.refine`, i.e. what ``segment(image, method, refine=True)`` returns.

- ``color``, ``contour``, ``gradient`` learn nothing from data (their settings are fixed
  keyword defaults), so their LODO score is simply their score on each whole dataset.
- ``contour_plain`` is the seed-style reference the ``contour`` method must beat:
  :func:`plain_contour_matte` (Otsu on grey, the largest dark contour filled as the foreground,
  opening and closing).
- ``classifier`` is retrained for every fold on the other groups only (pixels subsampled,
  ``--per-image``; the shipped hyper-parameters, sampling and group balance of
  :mod:`skyseg_core.train.classifier`), with this checkout's :func:`sky_features`,
  and run exactly as the method runs, connectivity clean-up included (a scikit-learn model
  in place of the ONNX file).

Every image of every dataset is used (``--step N`` scores every N-th image of each held-out
group, for quick experiments; training always uses every image of the other groups).
``--overlays DIR`` writes the ten worst images of each method (fraction of pixels wrong) as
:func:`skyseg_core.evaluate.overlay` pictures: predicted sky magenta, true sky edge yellow.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skyseg_core import get_method, load_image  # noqa: E402
from skyseg_core.datasets import IGNORE_LABEL, find_samples  # noqa: E402
from skyseg_core.evaluate import confusion, overlay  # noqa: E402
from skyseg_core.matte import to_uint8_rgb  # noqa: E402
from skyseg_core.methods._base import SkyMethod  # noqa: E402
from skyseg_core.methods._common import grey, soften  # noqa: E402
from skyseg_core.methods.classifier import ClassifierMethod  # noqa: E402
from skyseg_core.refine import refine  # noqa: E402

GROUPS = ("ade20k", "camvid", "fisheye", "skyfinder", "stanford")
"""Held-out groups: dataset folder names by prefix; both SkyFinder folders are ``skyfinder``."""

FIXED = ("color", "contour", "gradient", "contour_plain")
"""Methods with nothing to learn: LODO equals scoring on each dataset."""


def group_of(dataset: str) -> str:
    return next(g for g in GROUPS if dataset.startswith(g))


def plain_contour_matte(
    image: np.ndarray, *, blur: int = 5, morph_size: float = 0.02
) -> np.ndarray:
    """The seed project's contour algorithm, kept as the reference ``contour`` must beat.

    Grey, ``blur`` x ``blur`` Gaussian, Otsu threshold; the dark class is the foreground, its
    largest outer contour is filled, the silhouette is opened and closed with an elliptic
    kernel of ``morph_size`` (fraction of the longer side); everything else is sky.
    Returns a float32 (H, W) matte in {0, 1}.
    """
    gray8 = np.round(grey(image) * 255.0).astype(np.uint8)
    gray8 = cv2.GaussianBlur(gray8, (blur, blur), 0)
    _, dark = cv2.threshold(gray8, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(dark, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    foreground = np.zeros_like(dark)
    if contours:
        largest = max(contours, key=cv2.contourArea)
        cv2.drawContours(foreground, [largest], -1, 1, thickness=cv2.FILLED)
    k = max(1, round(morph_size * max(image.shape[:2])))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    foreground = cv2.morphologyEx(foreground, cv2.MORPH_OPEN, kernel)
    foreground = cv2.morphologyEx(foreground, cv2.MORPH_CLOSE, kernel)
    return soften(foreground == 0, 0.0)


class PlainContour(SkyMethod):
    """:func:`plain_contour_matte` at ``contour``'s working size (not registered)."""

    name = "contour_plain"
    working_size = 384
    algorithm = staticmethod(plain_contour_matte)


class _SklearnModel:
    """Stands in for the classifier's ONNX session: a fitted scikit-learn model."""

    def __init__(self, clf, working_size: int):
        self.clf, self.working_size = clf, working_size

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        flat = features.reshape(-1, features.shape[-1])
        return self.clf.predict_proba(flat)[:, 1].astype(np.float32).reshape(features.shape[:2])


def fold_classifier(clf, working_size: int) -> ClassifierMethod:
    """A ``classifier`` method running ``clf`` instead of the shipped model file."""
    method = ClassifierMethod.__new__(ClassifierMethod)
    method._model = _SklearnModel(clf, working_size)
    method.working_size = working_size
    method.clean_up = True
    return method


def load(sample) -> tuple[np.ndarray, np.ndarray]:
    return to_uint8_rgb(load_image(sample.image)), np.asarray(Image.open(sample.mask))


def score(method: SkyMethod, image: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    matte = refine(image, method.coarse(image))
    return matte, np.array(confusion(matte, truth), np.int64)


def main(argv=None) -> int:
    from skyseg_core.train.classifier import (
        HYPERPARAMETERS,
        balanced_weights,
        fit_classifier,
        group_of_dataset,
        image_pixels,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "skyseg"))
    parser.add_argument("--methods", nargs="+", default=[*FIXED, "classifier"])
    parser.add_argument("--step", type=int, default=1, help="score every n-th held-out image")
    parser.add_argument("--per-image", type=int, default=200, help="training pixels per image")
    parser.add_argument("--max-iter", type=int, default=HYPERPARAMETERS["max_iter"])
    parser.add_argument("--working-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overlays", help="folder for the ten worst overlays of each method")
    parser.add_argument("--json", help="also write the table as JSON here")
    args = parser.parse_args(argv)

    samples = find_samples(args.data)
    by_group = defaultdict(list)
    for s in samples:
        by_group[group_of(s.dataset)].append(s)
    scored = {g: by_group[g][:: args.step] for g in GROUPS}
    counts = defaultdict(lambda: defaultdict(lambda: np.zeros(4, np.int64)))
    errors = defaultdict(list)  # method -> [(wrong fraction, sample, group)]
    start = time.perf_counter()

    fixed = {
        n: PlainContour() if n == "contour_plain" else get_method(n)
        for n in args.methods
        if n in FIXED
    }
    if fixed:
        for g in GROUPS:
            for s in scored[g]:
                image, truth = load(s)
                for name, method in fixed.items():
                    _, c = score(method, image, truth)
                    counts[name][g] += c
                    errors[name].append(((c[1] + c[2]) / max(c.sum(), 1), s, g))
        print(f"fixed methods scored in {time.perf_counter() - start:.0f} s", file=sys.stderr)

    folds = {}
    if "classifier" in args.methods:
        tables = {}
        rng = np.random.default_rng(args.seed)
        for s in samples:
            image, truth = load(s)
            valid = (truth != IGNORE_LABEL).astype(np.uint8)
            table = image_pixels(
                s.dataset, image, truth, valid, args.working_size, args.per_image, rng
            )
            if table is not None:
                tables[s] = (*table, np.full(table[1].size, group_of_dataset(s.dataset)))
        print(f"pixel tables in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        for g in GROUPS:
            fold = [s for s in samples if group_of(s.dataset) != g and s in tables]
            x, y, w, groups = (
                np.concatenate(parts) for parts in zip(*(tables[s] for s in fold), strict=True)
            )
            w = w * balanced_weights(groups, w)
            clf = fit_classifier(x, y, w, seed=args.seed, max_iter=args.max_iter)
            folds[g] = method = fold_classifier(clf, args.working_size)
            for s in scored[g]:
                image, truth = load(s)
                _, c = score(method, image, truth)
                counts["classifier"][g] += c
                errors["classifier"].append(((c[1] + c[2]) / max(c.sum(), 1), s, g))
            print(
                f"classifier fold {g}: {len(y):,} pixels, {time.perf_counter() - start:.0f} s",
                file=sys.stderr,
            )

    def micro(c):
        return c[0] / max(c[0] + c[1] + c[2], 1)

    rows = {}
    for name in args.methods:
        per = counts[name]
        rows[name] = {g: micro(per[g]) for g in GROUPS}
        rows[name]["all"] = micro(sum(per.values()))
    n = sum(len(v) for v in scored.values())
    print(
        f"LODO micro IoU, refined; {n} held-out images (step {args.step}); {time.perf_counter() - start:.0f} s"
    )
    print("| method | " + " | ".join(GROUPS) + " | all |")
    print("|---" * (len(GROUPS) + 2) + "|")
    for name, row in rows.items():
        print(f"| `{name}` | " + " | ".join(f"{row[k]:.3f}" for k in (*GROUPS, "all")) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    if args.overlays:
        out = Path(args.overlays)
        out.mkdir(parents=True, exist_ok=True)
        for name, errs in errors.items():
            method = fixed.get(name)
            for rank, (wrong, s, g) in enumerate(sorted(errs, key=lambda e: -e[0])[:10]):
                image, truth = load(s)
                matte, _ = score(method or folds[g], image, truth)
                path = out / f"{name}_{rank:02d}_{s.dataset[:8]}_{s.id}_{wrong:.2f}.jpg"
                Image.fromarray(overlay(image, truth, matte)).save(path, quality=85)
    return 0


if __name__ == "__main__":
    sys.exit(main())
