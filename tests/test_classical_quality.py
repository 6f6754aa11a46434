"""Quality floors of the classical methods on a fixed subset of the validation split.

Micro IoU (pixels pooled, matte >= 0.5 is sky, ignore label 128 excluded) of each method's raw
output on 60 validation images spread over every dataset. The floors sit a little under what
the methods measure on this subset (see README "Methods"); the full-split figures come from
``scripts/measure_methods.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import validation_subset

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

FLOORS = {"color": 0.65, "contour": 0.52, "gradient": 0.45, "classifier": 0.85}
"""Micro IoU floors on the subset, a little under the measured 0.712 / 0.580 / 0.498 / 0.894.
The issue asks color >= 0.60 and the best classical method >= 0.80."""

BEST_CLASSICAL_FLOOR = 0.85


@pytest.fixture(scope="module")
def subset():
    from PIL import Image

    return [(load_image(s.image), np.asarray(Image.open(s.mask))) for s in validation_subset(PER_DATASET)]


def micro_iou(name: str, subset) -> float:
    method = get_method(name)
    tp = fp = fn = 0
    for image, truth in subset:
        a, b, c, _ = confusion(method(image), truth)
        tp, fp, fn = tp + a, fp + b, fn + c
    return iou_from_counts(tp, fp, fn)


@pytest.fixture(scope="module")
def scores(subset):
    return {name: micro_iou(name, subset) for name in FLOORS}


def test_subset_is_fixed_and_mixed(subset):
    assert len(subset) == sum(PER_DATASET.values()) == 60
    assert all(truth.dtype == np.uint8 for _, truth in subset)


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
