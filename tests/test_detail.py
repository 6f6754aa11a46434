"""The detail stage: features, band, the model file's checks, its place in ``segment``, what it
gains on real photos with sky between leaves, and steadiness on shifted or re-encoded photos."""

from __future__ import annotations

import importlib
import io
import json

import numpy as np
import pytest
from conftest import ROOT, SKYSEG_DATA, synthetic_landscape
from PIL import Image

from skyseg_core import load_image, segment
from skyseg_core.datasets import find_samples
from skyseg_core.detail import (
    FEATURE_NAMES,
    DetailModel,
    detail_band,
    detail_features,
    detail_matte,
    shipped_detail_model,
)
from skyseg_core.errors import ModelFileError
from skyseg_core.evaluate import image_metrics, load_truth, summarize
from skyseg_core.models import write_sha256_sidecar


def _scene(h=60, w=80, seed=0):
    image, sky = synthetic_landscape(h, w, seed=seed)
    return image.astype(np.float32) / 255.0, sky


def test_features_have_the_declared_planes_and_are_finite():
    image, sky = _scene()
    coarse = sky.astype(np.float32)
    features = detail_features(image, coarse)
    assert features.shape == (*sky.shape, len(FEATURE_NAMES)) and features.dtype == np.float32
    assert np.isfinite(features).all()
    assert np.array_equal(features[..., FEATURE_NAMES.index("coarse")], coarse)


def test_local_models_fall_back_to_the_photos_own_colours_without_sure_pixels():
    image, _ = _scene()
    undecided = np.full(image.shape[:2], 0.5, np.float32)  # nothing sure anywhere
    features = detail_features(image, undecided)
    assert np.isfinite(features).all()
    assert features[..., FEATURE_NAMES.index("sky_density_far")].max() == 0.0


def test_band_leaves_open_sky_and_far_ground_to_the_network():
    h, w = 80, 80
    coarse = np.zeros((h, w), np.float32)
    coarse[:40] = 1.0  # sky above row 40
    image = np.zeros((h, w, 3), np.float32)
    image[:40] = (0.5, 0.7, 0.95)
    image[40:] = (0.2, 0.3, 0.1)
    band = detail_band(detail_features(image, coarse))
    assert not band[:5].any(), "the inside of an open sky is not re-decided"
    assert band[38:42].all(), "the horizon is"
    assert not band[-3:].any(), "ground far below any sky is not"


def test_the_sure_sky_densities_fade_without_an_edge():
    """A box window's edge made the density's slope stop dead one radius from the sky, a seam
    in the matte where that line crossed a canopy; the Gaussian window's slope changes gently
    (a box's largest change of slope equals its slope, 1.0 below)."""
    h, w = 120, 400
    coarse = np.zeros((h, w), np.float32)
    coarse[:, :100] = 1.0  # sky left of column 100
    image = np.zeros((h, w, 3), np.float32)
    image[:, :100] = (0.5, 0.7, 0.95)
    image[:, 100:] = (0.2, 0.3, 0.1)
    features = detail_features(image, coarse)
    for name in ("sky_density_near", "sky_density_far"):
        density = features[h // 2, :, FEATURE_NAMES.index(name)].astype(np.float64)
        slope = np.diff(density)
        assert (slope <= 1e-7).all(), f"{name} falls away from the sky"
        assert np.abs(np.diff(slope)).max() < 0.3 * np.abs(slope).max(), name


def _tiny_model(path, *, feature_version=None, features=None, weights=None):
    """An ONNX detail model written with onnx.helper: alpha = sigmoid(features . weights)."""
    import onnx
    from onnx import TensorProto, helper

    from skyseg_core.detail import FEATURE_VERSION

    n = len(FEATURE_NAMES)
    w = np.zeros((n, 1), np.float32) if weights is None else weights.astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["features", "w"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["alpha"]),
        ],
        "tiny",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", n])],
        [helper.make_tensor_value_info("alpha", TensorProto.FLOAT, ["n", 1])],
        [helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.ravel())],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta = {
        "format": "skyseg-detail/1",
        "feature_version": str(FEATURE_VERSION if feature_version is None else feature_version),
        "features": json.dumps(list(FEATURE_NAMES if features is None else features)),
        "working_size": "64",
    }
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    write_sha256_sidecar(path)
    return path


def test_model_file_checks(tmp_path):
    good = DetailModel.load(_tiny_model(tmp_path / "good.onnx"))
    assert good.working_size == 64
    rows = np.random.default_rng(0).random((5, len(FEATURE_NAMES)), dtype=np.float32)
    assert np.allclose(good.alpha(rows), 0.5) and good.alpha(rows[:0]).shape == (0,)
    with pytest.raises(ModelFileError, match="other features"):
        DetailModel.load(_tiny_model(tmp_path / "old.onnx", feature_version=0))
    with pytest.raises(ModelFileError, match="other features"):
        DetailModel.load(_tiny_model(tmp_path / "names.onnx", features=["coarse"]))
    damaged = _tiny_model(tmp_path / "damaged.onnx")
    damaged.write_bytes(damaged.read_bytes()[:-9] + b"tampered!")
    with pytest.raises(ModelFileError):
        DetailModel.load(damaged)


def test_detail_matte_keeps_the_network_outside_the_band_and_the_model_inside(tmp_path):
    # a model that says "sky" for every band pixel makes the band visible
    weights = np.zeros((len(FEATURE_NAMES), 1), np.float32)
    weights[FEATURE_NAMES.index("row")] = -1e-6
    weights[FEATURE_NAMES.index("sky_density_far")] = 1e4
    model = DetailModel.load(_tiny_model(tmp_path / "m.onnx", weights=weights))
    image, sky = _scene(120, 160)
    coarse = sky.astype(np.float32)
    coarse[sky] = 0.99
    matte = detail_matte((image * 255).astype(np.uint8), coarse, model)
    assert matte.shape == (48, 64), "at the model's working size"
    assert matte.dtype == np.float32 and 0.0 <= matte.min() and matte.max() <= 1.0


def test_segment_runs_the_detail_stage_for_deeplab_only_by_default(monkeypatch):
    segment_module = importlib.import_module(
        "skyseg_core.segment"
    )  # the package's name is the function
    calls = []
    real = segment_module.detail_matte
    monkeypatch.setattr(
        segment_module, "detail_matte", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    image = load_image(ROOT / "assets/samples/rocket.jpg")
    segment(image, method="deeplab")
    assert calls == [1]
    segment(image, method="deeplab", detail=False)
    segment(image, method="color")
    segment(image, method="deeplab", refine=False)
    assert calls == [1]
    segment(image, method="color", detail=True)
    assert calls == [1, 1]


def test_a_missing_detail_model_is_skipped_unless_asked_for(monkeypatch, tmp_path):
    segment_module = importlib.import_module("skyseg_core.segment")
    monkeypatch.setattr(segment_module, "shipped_detail_model", lambda: None)
    image = load_image(ROOT / "assets/samples/rocket.jpg")
    assert segment(image, method="deeplab").shape == image.shape[:2]
    with pytest.raises(ModelFileError, match="missing"):
        segment(image, method="deeplab", detail=True)


def test_the_shipped_model_loads_and_matches_the_features():
    model = shipped_detail_model()
    assert model is not None and model.working_size >= 320


def _through_canopy():
    """Validation photos whose truth follows the leaves (fisheye shots up through trees)."""
    samples = find_samples(SKYSEG_DATA, split="val", datasets=["fisheye_gnss_sky"])
    return samples[::3]


@pytest.mark.slow
def test_detail_stage_finds_the_sky_between_leaves():
    samples = _through_canopy()
    assert len(samples) >= 8
    with_detail, without = [], []
    for sample in samples:
        image = load_image(sample.image)
        truth, _ = load_truth(sample)
        with_detail.append(image_metrics(segment(image), truth))
        without.append(image_metrics(segment(image, detail=False), truth))
    gained = summarize(with_detail)["overall"]
    before = summarize(without)["overall"]
    assert gained.micro_iou >= before.micro_iou + 0.02, (gained.micro_iou, before.micro_iou)
    assert gained.boundary_f > before.boundary_f


def _flips(a: np.ndarray, b: np.ndarray) -> float:
    return float(((a >= 0.5) != (b >= 0.5)).mean())


@pytest.mark.slow
def test_the_matte_is_steady_on_shifted_and_reencoded_photos():
    """A burst or a timelapse: the same scene moved by a few pixels, or saved again as JPEG,
    must give the same matte (few decisions flip)."""
    sample = find_samples(SKYSEG_DATA, split="val", datasets=["fisheye_gnss_sky"])[0]
    image = load_image(sample.image)
    base = segment(image)
    shift = 4
    moved = segment(image[shift:, shift:])
    assert _flips(base[shift:, shift:], moved) < 0.01
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=90)
    again = segment(np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")))
    assert _flips(base, again) < 0.005


def test_the_training_cache_gives_the_coarse_probability_the_method_gave(tmp_path):
    """The detail model trains on the coarse matte the product computes: the run that fills the
    cache and every run that reads it see the same values (a float16 cache rounded them)."""
    pytest.importorskip("torch")
    from skyseg_core.train.data import TrainSample
    from skyseg_core.train.detail import coarse_of

    image, _ = synthetic_landscape(48, 64)
    Image.fromarray(image).save(tmp_path / "p.png")
    sample = TrainSample("set", "p", str(tmp_path / "p.png"), "", None, "train")
    coarse = np.random.default_rng(1).random((24, 32), dtype=np.float32)

    class Network:
        def coarse(self, photo):
            return coarse.copy()

    first = coarse_of(sample, Network(), tmp_path / "cache")[1]
    again = coarse_of(sample, Network(), tmp_path / "cache")[1]
    assert (tmp_path / "cache/set/p.npy").exists()
    assert np.array_equal(first, again)


def test_training_leaves_a_strip_along_the_sky_edge_undecided_as_the_editor_asks():
    """The brush and "Close gaps" ask the classifier about pixels set to 0.5; training asks it
    the same question along the network's sky edge, and leaves the rest of the photo alone."""
    pytest.importorskip("torch")
    from skyseg_core.train.detail import UNDECIDED_WIDTH, undecided_edge

    coarse = np.zeros((100, 200), np.float32)
    coarse[:40] = 0.97
    coarse[40:43] = 0.3
    rng = np.random.default_rng(0)
    widths = set()
    for _ in range(20):
        undecided, strip = undecided_edge(coarse, rng)
        assert np.all(undecided[strip] == 0.5)
        assert np.array_equal(undecided[~strip], coarse[~strip])
        rows = np.flatnonzero(strip.any(axis=1))
        assert strip[rows].all(), "the strip runs the whole edge"
        assert rows.min() < 40 <= rows.max()
        half = (rows.max() - rows.min() + 1) // 2
        assert UNDECIDED_WIDTH[0] * 200 - 1 <= half <= UNDECIDED_WIDTH[1] * 200 + 1
        widths.add(half)
    assert len(widths) > 3, "strips of several widths"
    assert not undecided_edge(np.zeros((50, 50), np.float32), rng)[1].any(), "no sky, no edge"
