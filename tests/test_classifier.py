"""The classifier method: one feature function, an ONNX export that agrees with scikit-learn,
and a model file that is checked before use."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from conftest import ROOT, synthetic_landscape

from skyseg_core.errors import ModelFileError
from skyseg_core.matte import to_float_rgb
from skyseg_core.methods.classifier import (
    FEATURE_NAMES,
    MODEL_ENV,
    ClassifierMethod,
    connected_sky,
    sky_features,
    sky_seed,
)


def _train_script():
    spec = importlib.util.spec_from_file_location(
        "train_classifier", ROOT / "scripts" / "train_classifier.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("train_classifier", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (3, 3), (40, 57)])
def test_features_shape_and_finite(shape):
    image = np.random.default_rng(0).random((*shape, 3), dtype=np.float32)
    features = sky_features(image)
    assert features.shape == (*shape, len(FEATURE_NAMES))
    assert features.dtype == np.float32
    assert np.isfinite(features).all()


def test_row_feature_and_edge_above():
    image, _ = synthetic_landscape(60, 80)
    features = sky_features(to_float_rgb(image))
    row = features[..., FEATURE_NAMES.index("row")]
    assert row[0].max() == 0.0 and row[-1].min() == 1.0
    above = features[..., FEATURE_NAMES.index("above_max_grad")]
    assert (np.diff(above, axis=0) >= 0).all(), (
        "strongest edge above a pixel never decreases downwards"
    )


def _fisheye_frame(size: int = 64) -> np.ndarray:
    """Blue disc of sky in the centre, green ring of trees, black outside the image circle."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    r = np.hypot(yy - (size - 1) / 2, xx - (size - 1) / 2) / (size / 2)
    image = np.zeros((size, size, 3), np.float32)
    image[r < 0.97] = (0.2, 0.45, 0.15)
    image[r < 0.6] = (0.45, 0.65, 0.95)
    return image


def test_fisheye_features_are_those_of_the_unwrapped_panorama():
    """An upward fisheye frame is seen as a panorama: "row" grows from the zenith (centre) to
    the rim, and the outside of the image circle is flagged."""
    features = sky_features(_fisheye_frame())
    row = features[..., FEATURE_NAMES.index("row")]
    outside = features[..., FEATURE_NAMES.index("outside_fisheye")]
    assert row[32, 32] < 0.05 and row[32, 2] > 0.9 and row[2, 32] > 0.9
    assert outside[0, 0] == 1.0 and outside[32, 32] == 0.0
    assert np.isfinite(features).all()
    seed = sky_seed(_fisheye_frame())
    assert seed[32, 32] and not seed[0, 32], "the fisheye's main sky is expected at the centre"


def test_connected_sky_drops_islands_and_fills_holes():
    p = np.full((100, 100), 0.1, np.float32)
    p[:40] = 0.9  # the main sky, from the top
    p[20, 50] = 0.2  # a speck in it
    p[70:74, 10:14] = 0.6  # an unsure island below: dropped
    p[60:90, 60:90] = 0.95  # a large confident patch below: kept
    out = connected_sky(p)
    assert out.dtype == np.float32 and out.shape == p.shape
    assert (out[:40] >= 0.5).all(), "the speck in the main sky is filled"
    assert 0.0 < out[71, 11] < 0.5, "the island is no longer sky but stays soft"
    assert (out[60:90, 60:90] == p[60:90, 60:90]).all()
    assert (out[45:55] == p[45:55]).all(), "ground is untouched"
    assert connected_sky(np.zeros((5, 7), np.float32)).max() == 0.0


def test_export_agrees_with_sklearn_and_loads(tmp_path):
    pytest.importorskip("sklearn")
    from sklearn.ensemble import HistGradientBoostingClassifier

    train = _train_script()
    image, truth = synthetic_landscape(48, 64)
    x = sky_features(to_float_rgb(image)).reshape(-1, len(FEATURE_NAMES))
    y = truth.reshape(-1).astype(int)
    clf = HistGradientBoostingClassifier(max_iter=5, max_leaf_nodes=7, random_state=0).fit(x, y)
    out = tmp_path / "tiny.onnx"
    train.export_onnx(
        clf, out, {"feature_names": list(FEATURE_NAMES), "working_size": "64"}, probe=x
    )
    method = ClassifierMethod(model_path=out, clean_up=False)
    assert method.working_size == 64
    matte = method(image)
    np.testing.assert_allclose(
        matte.reshape(-1),
        clf.predict_proba(x)[:, 1],
        atol=1e-4,
        err_msg="ONNX and scikit-learn differ",
    )


def test_damaged_or_foreign_model_is_refused(tmp_path, monkeypatch):
    bad = tmp_path / "classifier.onnx"
    bad.write_bytes(b"not an onnx file")
    with pytest.raises(ModelFileError, match="cannot load"):
        ClassifierMethod(model_path=bad)
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "missing.onnx"))
    assert not ClassifierMethod.available()
    with pytest.raises(ModelFileError, match=MODEL_ENV):
        ClassifierMethod()


def test_bundled_model_is_pinned_and_small():
    model = ROOT / "assets" / "models" / "classifier.onnx"
    assert model.stat().st_size <= 2_000_000
    assert (ROOT / "assets" / "models" / "classifier.onnx.sha256").is_file()
    assert (ROOT / "assets" / "models" / "classifier.md").is_file(), "model card"
    assert ClassifierMethod().working_size == 256
