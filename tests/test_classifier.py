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
from skyseg_core.methods.classifier import FEATURE_NAMES, MODEL_ENV, ClassifierMethod, sky_features


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
    method = ClassifierMethod(model_path=out)
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
