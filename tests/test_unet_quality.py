"""Quality floors of the shipped sky U-Net (``unet``) and of ``blend`` (the default, ``auto``).

The product path (``segment(image, method)``: network + refinement, full resolution) on a fixed
subset of the validation split (evenly spaced per dataset, never trained on). The floors sit a
little under what the shipped model measures on this subset; the full-split figures are in
``assets/models/sky_unet.md``.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import validation_subset

from skyseg_core import load_image, segment
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

FLOORS = {
    "unet": {"overall": 0.73, "ordinary": 0.69, "max_fp_rate": 0.17},
    "blend": {"overall": 0.86, "ordinary": 0.81, "max_fp_rate": 0.07},
}
"""Per method: micro IoU floors and the false-positive ceiling on the subset's sky-free photos.
Measured with the shipped models: unet 0.759 / 0.723 / 0.142, blend 0.885 / 0.840 / 0.041."""

ORDINARY = ("ade20k_skyopt_cvprw2020", "stanford_background_iccv09")


def subset_results(method: str = "unet") -> list:
    """(dataset, (tp, fp, fn, tn)) of the product path on each subset photo."""
    out = []
    for s in validation_subset(PER_DATASET):
        truth = load_image(s.mask)[..., 0]
        out.append((s.dataset, confusion(segment(load_image(s.image), method=method), truth)))
    return out


@pytest.fixture(scope="module", params=list(FLOORS))
def method(request):
    return request.param


@pytest.fixture(scope="module")
def results(method):
    return subset_results(method)


def _micro(results, datasets=None) -> float:
    counts = np.array([c for d, c in results if datasets is None or d in datasets]).sum(axis=0)
    return iou_from_counts(*counts[:3])


def test_shipped_model_is_available():
    assert UnetMethod.available(), "assets/models/sky_unet.onnx missing or not matching its SHA-256"
    assert resolve_name("unet") == "unet"


def test_overall_floor(results, method):
    assert _micro(results) >= FLOORS[method]["overall"]


def test_ordinary_photos_floor(results, method):
    assert _micro(results, ORDINARY) >= FLOORS[method]["ordinary"]


def _fp_rate(results) -> float:
    skyless = [c for _, c in results if c[0] + c[2] == 0]
    assert skyless, "the subset has sky-free photos"
    return sum(c[1] for c in skyless) / sum(c[1] + c[3] for c in skyless)


def test_sky_free_false_positives(results, method):
    assert _fp_rate(results) <= FLOORS[method]["max_fp_rate"]


if __name__ == "__main__":  # print the subset figures the floors are set from
    for name in FLOORS:
        measured = subset_results(name)
        print(f"{name}: overall {_micro(measured):.4f} ordinary {_micro(measured, ORDINARY):.4f} "
              f"fp {_fp_rate(measured):.4f}")
