"""Quality floors of the shipped networks: ``deeplab`` (the default, ``auto``), ``unet`` and ``blend``.

The product path (``segment(image, method)``: network + refinement, full resolution) on a fixed
subset of the validation split (evenly spaced per dataset, never trained on). The floors sit a
little under what the shipped models measure on this subset; the full-split figures are in
``assets/models/sky_deeplab.md`` and ``assets/models/sky_unet.md``.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import validation_subset

from skyseg_core import load_image, segment
from skyseg_core.evaluate import confusion, iou_from_counts
from skyseg_core.methods import resolve_name
from skyseg_core.methods.deeplab import DeepLabMethod
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
    "deeplab": {"overall": 0.91, "ordinary": 0.94, "max_fp_rate": 0.01},
    "unet": {"overall": 0.84, "ordinary": 0.79, "max_fp_rate": 0.09},
    "blend": {"overall": 0.89, "ordinary": 0.87, "max_fp_rate": 0.025},
}
"""Per method: micro IoU floors and the false-positive ceiling on the subset's sky-free photos.
Measured with the shipped models: deeplab 0.929 / 0.951 / 0.0001, unet (ImageNet encoder, int8
weights) 0.866 / 0.815 / 0.064, blend 0.910 / 0.896 / 0.0095."""

ORDINARY = ("ade20k_skyopt_cvprw2020", "stanford_background_iccv09")


def subset_results(method: str = "unet", mattes: list | None = None) -> list:
    """(dataset, (tp, fp, fn, tn)) of the product path on each subset photo; with ``mattes``,
    (truth, matte) pairs are appended to it too."""
    out = []
    for s in validation_subset(PER_DATASET):
        truth = load_image(s.mask)[..., 0]
        matte = segment(load_image(s.image), method=method)
        out.append((s.dataset, confusion(matte, truth)))
        if mattes is not None:
            mattes.append((truth, matte))
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


def test_shipped_models_are_available():
    assert UnetMethod.available(), "assets/models/sky_unet.onnx missing or not matching its SHA-256"
    assert DeepLabMethod.available(), (
        "assets/models/sky_deeplab.onnx missing or not matching its SHA-256"
    )
    assert resolve_name("unet") == "unet"
    assert resolve_name("auto") == "deeplab"


def test_default_model_is_confident():
    """No hedging: sky-free photos stay near 0 and true sky near 1 (99th percentile / median)."""
    mattes: list = []
    subset_results("deeplab", mattes)
    skyfree = np.concatenate([m[t != 128].ravel() for t, m in mattes if not (t == 255).any()])
    sky = np.concatenate([m[t == 255].ravel() for t, m in mattes])
    assert np.percentile(skyfree, 99) < 0.1
    assert np.median(sky) > 0.95


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
        print(
            f"{name}: overall {_micro(measured):.4f} ordinary {_micro(measured, ORDINARY):.4f} "
            f"fp {_fp_rate(measured):.4f}"
        )
