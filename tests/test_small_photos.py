"""Photos smaller than the network's working size: run at their own size by default, or enlarged
to the working size for the network with ``enlarge_small`` (issue 28's small video frames)."""

from __future__ import annotations

import numpy as np
import pytest

from skyseg_core import load_image
from skyseg_core.matte import resize_matte, to_float_rgb
from skyseg_core.methods._base import resize_long_side
from skyseg_core.methods.deeplab import DeepLabMethod
from skyseg_core.resources import assets_dir


@pytest.fixture(scope="module")
def network() -> DeepLabMethod:
    return DeepLabMethod()


@pytest.fixture(scope="module")
def photo_160() -> np.ndarray:
    """A real photo shrunk to 160 px on its longer side, as floats (no rounding on enlarging)."""
    return to_float_rgb(resize_long_side(load_image(assets_dir() / "samples" / "rocket.jpg"), 160))


def _sizes_seen(network: DeepLabMethod, image: np.ndarray) -> list[tuple]:
    """The sizes the network is run at for ``image``'s coarse probability."""
    seen: list[tuple] = []
    predict = network.predict

    def spy(x):
        seen.append(x.shape[:2])
        return predict(x)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(network, "predict", spy)
        network.coarse(image)
    return seen


def test_resize_long_side_enlarges_only_when_asked(photo_160):
    assert resize_long_side(photo_160, 320) is photo_160
    h, w = photo_160.shape[:2]
    enlarged = resize_long_side(photo_160, 320, enlarge=True)
    assert max(enlarged.shape[:2]) == 320
    assert enlarged.shape[0] == round(h * 320 / max(h, w))


def test_small_photo_runs_at_its_own_size_by_default(network, photo_160):
    assert _sizes_seen(network, photo_160) == [photo_160.shape[:2]]


def test_enlarged_small_photo_gives_the_enlarged_photos_probability_shrunk_back(
    network, photo_160, monkeypatch
):
    monkeypatch.setattr(network, "enlarge_small", True)
    enlarged = resize_long_side(photo_160, network.working_size, enlarge=True)
    assert _sizes_seen(network, photo_160) == [enlarged.shape[:2]]
    prob = network.coarse(photo_160)
    assert prob.shape == photo_160.shape[:2]
    # the same as the photo enlarged beforehand, its probability brought back to the photo's size
    np.testing.assert_array_equal(prob, resize_matte(network.coarse(enlarged), prob.shape))
    # and not what the network says at the photo's own size (the enlargement is really there)
    monkeypatch.setattr(network, "enlarge_small", False)
    assert np.abs(prob - network.coarse(photo_160)).max() > 0.01


def test_photos_at_the_working_size_are_not_touched(network, monkeypatch):
    image = np.random.default_rng(0).random((240, 320, 3), dtype=np.float32)
    monkeypatch.setattr(network, "enlarge_small", True)
    on = network.coarse(image)
    monkeypatch.setattr(network, "enlarge_small", False)
    np.testing.assert_array_equal(on, network.coarse(image))
