"""Quality floors of the shipped sky U-Net (``unet``).

The product path (``segment(image, "unet")``: network + refinement, full resolution) on a fixed
subset of the validation split (evenly spaced per dataset, never trained on). The floors sit a
little under what the shipped model measures on this subset; the full-split figures are in
``assets/models/sky_unet.md``.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_shared_data

from skyseg_core import load_image, segment
from skyseg_core.datasets import find_samples
from skyseg_core.evaluate import confusion, iou_from_counts
from skyseg_core.methods import resolve_name
from skyseg_core.methods.unet import UnetMethod

PER_DATASET = {
    "ade20k_skyopt_cvprw2020": 16,
    "camvid_segnet": 8,
    "fisheye_gnss_sky": 8,
    "skyfinder_subset_bakkopi": 4,
    "skyfinder_subset_yuennyao": 6,
    "stanford_background_iccv09": 24,
}
"""How many validation images each dataset gives to the subset (evenly spaced, fixed)."""

FLOORS = {"overall": 0.73, "ordinary": 0.69}
"""Micro IoU floors on the subset: measured 0.759 overall and 0.723 ordinary with the shipped model."""

MAX_FP_RATE = 0.17
"""Ceiling of the false-positive rate on the subset's sky-free photos (measured 0.142)."""

ORDINARY = ("ade20k_skyopt_cvprw2020", "stanford_background_iccv09")


def subset_results() -> list:
    """(dataset, (tp, fp, fn, tn)) of the product path on each subset photo."""
    root = require_shared_data()
    samples = find_samples(root, split="val")
    chosen = []
    for dataset, count in PER_DATASET.items():
        pool = [s for s in samples if s.dataset == dataset]
        assert len(pool) >= count, f"{dataset}: only {len(pool)} validation images"
        step = len(pool) / count
        chosen += [pool[int(i * step)] for i in range(count)]
    out = []
    for s in chosen:
        truth = load_image(s.mask)[..., 0]
        out.append((s.dataset, confusion(segment(load_image(s.image), method="unet"), truth)))
    return out


@pytest.fixture(scope="module")
def results():
    return subset_results()


def _micro(results, datasets=None) -> float:
    counts = np.array([c for d, c in results if datasets is None or d in datasets]).sum(axis=0)
    return iou_from_counts(*counts[:3])


def test_shipped_model_is_available():
    assert UnetMethod.available(), "assets/models/sky_unet.onnx missing or not matching its SHA-256"
    assert resolve_name("unet") == "unet"


def test_overall_floor(results):
    assert _micro(results) >= FLOORS["overall"]


def test_ordinary_photos_floor(results):
    assert _micro(results, ORDINARY) >= FLOORS["ordinary"]


def _fp_rate(results) -> float:
    skyless = [c for _, c in results if c[0] + c[2] == 0]
    assert skyless, "the subset has sky-free photos"
    return sum(c[1] for c in skyless) / sum(c[1] + c[3] for c in skyless)


def test_sky_free_false_positives(results):
    assert _fp_rate(results) <= MAX_FP_RATE


if __name__ == "__main__":  # print the subset figures the floors are set from
    measured = subset_results()
    print(f"overall {_micro(measured):.4f} ordinary {_micro(measured, ORDINARY):.4f} fp {_fp_rate(measured):.4f}")
