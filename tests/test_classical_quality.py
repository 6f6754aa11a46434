"""Quality floors of the classical methods on a fixed subset of the validation split.

Micro IoU (pixels pooled, matte >= 0.5 is sky, ignore label 128 excluded) of each method's raw
output on 60 validation images spread over every dataset. The floors sit a little under what
the methods measure on this subset (see docs/methods.md); the full-split figures come from
``scripts/measure_methods.py``, the leave-one-dataset-out ones from ``scripts/lodo_classical.py``.
``contour`` must also beat the plain seed-style contour algorithm (the reference kept in
``scripts/lodo_classical.py``) on every dataset of the subset.
"""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from conftest import ROOT, validation_subset

from skyseg_core import get_method, load_image
from skyseg_core.evaluate import confusion, iou_from_counts

PER_DATASET = {
    "ade20k_skyopt_cvprw2020": 12,
    "camvid_segnet": 8,
    "fisheye_gnss_sky": 8,
    "skyfinder_subset_bakkopi": 4,
    "skyfinder_subset_yuennyao": 6,
    "stanford_background_iccv09": 22,
}
"""How many validation images each dataset gives to the subset (evenly spaced, fixed)."""

FLOORS = {"color": 0.65, "contour": 0.66, "gradient": 0.45, "classifier": 0.85}
"""Micro IoU floors on the subset, a little under the measured 0.712 / 0.709 / 0.498 / 0.879
(the classifier of issue 17, chosen by the leave-one-dataset-out figure; the one before it
measured 0.894 here but 0.869 against 0.886 on the whole validation split, refined).
The issue asks color >= 0.60 and the best classical method >= 0.80."""

BEST_CLASSICAL_FLOOR = 0.85


@pytest.fixture(scope="module")
def subset():
    from PIL import Image

    return [
        (s.dataset, load_image(s.image), np.asarray(Image.open(s.mask)))
        for s in validation_subset(PER_DATASET)
    ]


def micro_iou(method, subset, dataset: str = "") -> float:
    method = get_method(method) if isinstance(method, str) else method
    tp = fp = fn = 0
    for name, image, truth in subset:
        if name.startswith(dataset):
            a, b, c, _ = confusion(method(image), truth)
            tp, fp, fn = tp + a, fp + b, fn + c
    return iou_from_counts(tp, fp, fn)


def _lodo_script():
    spec = importlib.util.spec_from_file_location(
        "lodo_classical", ROOT / "scripts" / "lodo_classical.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("lodo_classical", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scores(subset):
    return {name: micro_iou(name, subset) for name in FLOORS}


def test_subset_is_fixed_and_mixed(subset):
    assert len(subset) == sum(PER_DATASET.values()) == 60
    assert all(truth.dtype == np.uint8 for _, _, truth in subset)


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_method_floor(scores, name):
    assert scores[name] >= FLOORS[name], (
        f"{name}: micro IoU {scores[name]:.3f} < floor {FLOORS[name]}"
    )


def test_best_classical_floor(scores):
    assert max(scores.values()) >= BEST_CLASSICAL_FLOOR, scores


def test_classifier_model_is_shipped():
    """The shipped classifier must be available (its file present and matching its SHA-256)."""
    from skyseg_core.methods.classifier import ClassifierMethod

    assert ClassifierMethod.available()


@pytest.mark.parametrize("dataset", ["ade20k", "camvid", "fisheye", "skyfinder", "stanford"])
def test_contour_beats_the_plain_seed_contour(subset, dataset):
    plain = _lodo_script().PlainContour()
    ours, reference = micro_iou("contour", subset, dataset), micro_iou(plain, subset, dataset)
    assert ours >= reference, f"{dataset}: contour {ours:.3f} < plain contour {reference:.3f}"


def test_plain_contour_reference_is_the_seed_algorithm():
    """Bright sky over a dark silhouette: sky above, the filled silhouette and its hill below."""
    plain = _lodo_script().plain_contour_matte
    image = np.full((60, 80, 3), 0.85, np.float32)
    image[35:] = 0.1
    image[25:35, 30:50] = 0.1  # a hill on the ground
    matte = plain(image)
    assert matte.dtype == np.float32 and matte.shape == (60, 80)
    assert matte[:20].min() == 1.0 and matte[40:].max() == 0.0 and matte[30, 40] == 0.0
