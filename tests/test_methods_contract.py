"""The contract every registered sky method keeps (STYLE.md point 11).

Methods are collected from the registry, so a new method joins this suite by registering.
``TestMethodContract`` is the structure of a matte (dtype, size, range, odd and thin sizes, input
types, refusals, determinism); ``TestMethodSense`` is whether it finds sky. A method whose
``available()`` is False runs the structure on test-built weights where tests can build them
(``ade20k``: CSAIL checkpoints with random weights) and is left out of the sense tests, since a
random network means nothing; its quality is measured by ``skyseg eval`` with real weights.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from conftest import synthetic_landscape

from skyseg_core import InputError, methods, segment
from skyseg_core.methods import _REGISTRY, _load_all, ade20k, get_method

_load_all()

# Methods whose weights tests can build (with torch) when the real ones are not here.
_CAN_BUILD_WEIGHTS = {"ade20k"}
ON_RANDOM_WEIGHTS = {
    name
    for name, cls in _REGISTRY.items()
    if name in _CAN_BUILD_WEIGHTS
    and not cls.available()
    and importlib.util.find_spec("torch") is not None
}


def _method_params(*, sense: bool):
    params = []
    for name, cls in sorted(_REGISTRY.items()):
        if name in ON_RANDOM_WEIGHTS:
            if not sense:  # a random network has the structure of a matte but no sense
                params.append(pytest.param(name, id=f"{name}-random-weights"))
            continue
        marks = (
            () if cls.available() else pytest.mark.skip(reason=f"{name}: model file not available")
        )
        params.append(pytest.param(name, marks=marks, id=name))
    return params


METHODS = _method_params(sense=False)
SENSE_METHODS = _method_params(sense=True)


@pytest.fixture(scope="module")
def random_ade20k_weights(tmp_path_factory):
    """The smallest CSAIL architecture (MobileNetV2 + C1), random weights."""
    from tests.ade20k_weights import write_checkpoints

    folder = tmp_path_factory.mktemp("ade20k") / "ade20k-mobilenetv2dilated-c1_deepsup"
    return write_checkpoints(folder, "mobilenetv2dilated", "c1_deepsup")


@pytest.fixture(autouse=True)
def _weights_for(name, request, monkeypatch):
    """Point a method without its real weights at the test-built ones."""
    if name not in ON_RANDOM_WEIGHTS:
        return
    monkeypatch.setenv(ade20k.ENV_VAR, str(request.getfixturevalue("random_ade20k_weights")))
    # get_method() and segment() cache one instance per name: keep this one from outliving the test
    monkeypatch.setattr(methods, "_instances", {})


def _check(matte: np.ndarray, shape: tuple[int, int]) -> None:
    assert isinstance(matte, np.ndarray)
    assert matte.dtype == np.float32
    assert matte.shape == shape
    assert np.isfinite(matte).all()
    assert matte.min() >= 0.0 and matte.max() <= 1.0


def _uniform_sky(height: int, width: int) -> np.ndarray:
    """A clear blue sky: a smooth vertical gradient with a little noise."""
    rng = np.random.default_rng(1)
    t = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    top, bottom = np.array([0.25, 0.45, 0.85]), np.array([0.55, 0.7, 0.95])
    image = top + (bottom - top) * t + rng.normal(0, 0.005, (height, width, 3))
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)


def _ground_only(height: int, width: int) -> np.ndarray:
    """A frame with no sky: dark, textured grass and soil."""
    rng = np.random.default_rng(2)
    base = np.array([0.18, 0.28, 0.10])
    texture = rng.normal(0, 0.07, (height, width, 1)) + rng.normal(0, 0.02, (height, width, 3))
    return (np.clip(base + texture, 0, 1) * 255).round().astype(np.uint8)


def _sky_contrast(matte: np.ndarray, truth: np.ndarray) -> float:
    return float(matte[truth].mean() - matte[~truth].mean())


@pytest.mark.parametrize("name", METHODS)
class TestMethodContract:
    def test_landscape_uint8(self, name):
        image, _ = synthetic_landscape(120, 160)
        _check(get_method(name)(image), (120, 160))

    def test_bigger_than_working_size_keeps_full_size(self, name):
        image, _ = synthetic_landscape(301, 1001)
        _check(get_method(name)(image), (301, 1001))

    def test_refined_through_segment(self, name):
        image, _ = synthetic_landscape(90, 130)
        _check(segment(image, method=name, refine=True), (90, 130))

    def test_16bit_and_float_agree_with_8bit(self, name):
        image8, _ = synthetic_landscape(96, 128, dtype=np.uint8)
        image16 = image8.astype(np.uint16) * 257
        reference = get_method(name)(image8)
        for image in (image16, image8.astype(np.float32) / 255, image8.astype(np.float64) / 255):
            matte = get_method(name)(image)
            _check(matte, (96, 128))
            assert np.abs(matte - reference).mean() < 0.02

    def test_grey_as_rgb(self, name):
        image, truth = synthetic_landscape(100, 140)
        grey = image.mean(axis=2, keepdims=True).round().astype(np.uint8).repeat(3, axis=2)
        matte = get_method(name)(grey)
        _check(matte, (100, 140))

    @pytest.mark.parametrize(
        "shape",
        [(1, 1), (1, 7), (1, 600), (600, 1), (2, 2), (3, 500), (500, 3), (37, 53), (53, 37)],
    )
    def test_odd_and_thin_sizes(self, name, shape):
        rng = np.random.default_rng(3)
        image = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
        _check(get_method(name)(image), shape)
        _check(segment(image, method=name), shape)

    def test_rgba_and_grey_arrays_are_refused_clearly(self, name):
        # files with alpha or one channel are brought to RGB by load_image; arrays must be RGB
        for bad in (
            np.zeros((8, 8, 4), np.uint8),
            np.zeros((8, 8), np.uint8),
            np.zeros((0, 5, 3), np.uint8),
        ):
            with pytest.raises(InputError, match="shape"):
                get_method(name)(bad)

    def test_all_sky(self, name):
        _check(get_method(name)(_uniform_sky(96, 128)), (96, 128))

    def test_no_sky(self, name):
        matte = get_method(name)(_ground_only(96, 128))
        _check(matte, (96, 128))

    def test_constant_images(self, name):
        for value in (0, 255):
            image = np.full((40, 60, 3), value, np.uint8)
            _check(get_method(name)(image), (40, 60))

    def test_deterministic(self, name):
        image, _ = synthetic_landscape(80, 120, seed=4)
        first = get_method(name)(image)
        again = get_method(name)(image)
        fresh = type(get_method(name))()(image)
        np.testing.assert_array_equal(first, again)
        np.testing.assert_array_equal(first, fresh)

    def test_input_not_modified(self, name):
        image, _ = synthetic_landscape(64, 64)
        before = image.copy()
        get_method(name)(image)
        np.testing.assert_array_equal(image, before)

    def test_has_documented_failure_modes(self, name):
        import sys

        module = sys.modules[type(get_method(name)).__module__]
        assert "Failure modes" in (module.__doc__ or ""), f"{name}: document its failure modes"
        assert get_method(name).description


@pytest.mark.parametrize("name", SENSE_METHODS)
class TestMethodSense:
    def test_sky_scores_higher_than_ground(self, name):
        image, truth = synthetic_landscape(120, 160)
        matte = get_method(name)(image)
        assert _sky_contrast(matte, truth) > 0.5, "sky should score clearly higher than ground"

    def test_bigger_than_working_size(self, name):
        image, truth = synthetic_landscape(301, 1001)
        assert _sky_contrast(get_method(name)(image), truth) > 0.5

    def test_refined_through_segment(self, name):
        image, truth = synthetic_landscape(90, 130)
        assert _sky_contrast(segment(image, method=name, refine=True), truth) > 0.5

    def test_clear_sky_frame_is_mostly_sky(self, name):
        assert get_method(name)(_uniform_sky(96, 128)).mean() > 0.5
