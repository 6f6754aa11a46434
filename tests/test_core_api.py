"""The public API: registry, segment(), matte I/O."""

from __future__ import annotations

import numpy as np
import pytest

import skyseg_core as sky
from skyseg_core.methods import resolve_name
from tests.conftest import synthetic_landscape


def test_unknown_method_lists_valid_names():
    with pytest.raises(sky.UnknownMethodError) as info:
        sky.get_method("no-such-method")
    message = str(info.value)
    assert "no-such-method" in message
    for name, _ in sky.list_methods():
        assert name in message


def test_auto_resolves_to_an_available_registered_method():
    names = [name for name, _ in sky.list_methods()]
    assert names[0] == "auto"
    assert resolve_name("auto") in names[1:]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("refine", [True, False])
def test_segment_returns_full_size_matte(dtype, refine):
    image, _ = synthetic_landscape(97, 131, dtype=dtype)
    matte = sky.segment(image, method="color", refine=refine)
    assert matte.dtype == np.float32
    assert matte.shape == (97, 131)
    assert 0.0 <= matte.min() and matte.max() <= 1.0


def test_segment_rejects_non_rgb_arrays():
    with pytest.raises(sky.InputError, match=r"\(H, W, 3\)"):
        sky.segment(np.zeros((10, 10), np.uint8))


def test_check_matte_says_what_it_expected():
    with pytest.raises(sky.MatteError, match="float32"):
        sky.check_matte(np.zeros((4, 4), np.float64))
    with pytest.raises(sky.MatteError, match=r"\[0, 1\]"):
        sky.check_matte(np.full((4, 4), 1.5, np.float32))
    with pytest.raises(sky.MatteError, match="shape"):
        sky.check_matte(np.zeros((4, 4), np.float32), (4, 5))


def test_matte_round_trip_and_no_overwrite(tmp_path):
    matte = np.linspace(0, 1, 64 * 48, dtype=np.float32).reshape(48, 64)
    path = sky.save_matte(tmp_path / "m.png", matte)
    back = sky.load_matte(path)
    assert back.shape == matte.shape and back.dtype == np.float32
    assert np.abs(back - matte).max() <= 0.5 / 255 + 1e-6
    before = path.read_bytes()
    with pytest.raises(sky.OutputError, match="already exists"):
        sky.save_matte(path, np.zeros_like(matte))
    assert path.read_bytes() == before
    sky.save_matte(path, np.zeros_like(matte), overwrite=True)
    assert sky.load_matte(path).max() == 0.0


def test_failed_write_leaves_no_partial_file(tmp_path):
    with pytest.raises(sky.MatteError):
        sky.save_matte(tmp_path / "bad.png", np.full((4, 4), np.nan, np.float32))
    assert list(tmp_path.iterdir()) == []


def test_sixteen_bit_png_keeps_precision(tmp_path):
    image, _ = synthetic_landscape(20, 30, dtype=np.uint16)
    image[0, 0] = (1, 2, 65534)
    path = sky.save_image(tmp_path / "p16.png", image)
    loaded = sky.load_image(path)
    assert loaded.dtype == np.uint16
    np.testing.assert_array_equal(loaded, image)
