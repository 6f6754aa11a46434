"""The one byte-depth converter (skyseg_core.depth): white, codes <-> floats, depth to depth."""

from __future__ import annotations

import numpy as np
import pytest

from skyseg_core.depth import convert_depth, to_codes, to_float, white


def test_white_of_each_dtype():
    assert white(np.uint8) == 255.0
    assert white(np.uint16) == 65535.0
    assert white(">u2") == 65535.0  # big-endian ICC curve tables
    assert white(np.float32) == white(np.float64) == 1.0


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_every_code_survives_the_round_trip(dtype):
    codes = np.arange(int(white(dtype)) + 1).astype(dtype)
    for float_type in (np.float32, np.float64):
        values = to_float(codes, float_type)
        assert values.dtype == float_type
        assert values[0] == 0.0 and values[-1] == 1.0
        assert np.array_equal(to_codes(values, dtype), codes)
    assert np.array_equal(to_codes(to_float(codes.reshape(-1, 1)), dtype), codes.reshape(-1, 1))


def test_out_of_range_values_are_clipped():
    values = np.array([-3.0, -1e-9, 1.0 + 1e-9, 7.0, 0.5], np.float32)
    assert to_codes(values, np.uint8).tolist() == [0, 0, 255, 255, 128]
    assert to_codes(values, np.uint16).tolist() == [0, 0, 65535, 65535, 32768]
    assert to_codes(values, np.float32).tolist() == [0.0, 0.0, 1.0, 1.0, 0.5]


def _ties(top: float) -> tuple[np.ndarray, np.ndarray]:
    """Float64 values v with v * top exactly k + 0.5, and the k of each."""
    k = np.arange(0, int(top), 97 if top > 255 else 1, dtype=np.float64)
    v = (k + 0.5) / top
    exact = v * top == k + 0.5
    assert exact.sum() > len(k) // 2  # enough ties to say anything
    return v[exact], k[exact]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_rounding_at_a_half(dtype):
    v, k = _ties(white(dtype))
    assert np.array_equal(to_codes(v, dtype), k + (k % 2))  # half to even, as np.round
    assert np.array_equal(to_codes(v, dtype, rounding="half_up"), k + 1)
    assert np.array_equal(to_codes(v, dtype, rounding="down"), k)
    with pytest.raises(ValueError, match="rounding must be"):
        to_codes(v, dtype, rounding="nearest")  # type: ignore[arg-type]


def test_half_up_and_down_match_the_forms_they_replaced():
    rng = np.random.default_rng(7)
    x = rng.uniform(-0.1, 1.1, 100_000).astype(np.float32)
    assert np.array_equal(
        to_codes(x, np.uint8, rounding="half_up"),
        np.clip(x * 255.0 + 0.5, 0, 255).astype(np.uint8),  # temporal's 8-bit copy
    )
    assert np.array_equal(
        to_codes(x, np.uint8, rounding="down"), np.clip(x * 255.0, 0, 255).astype(np.uint8)
    )
    inside = np.clip(x, 0, 1)
    assert np.array_equal(
        to_codes(inside, np.uint16, rounding="half_up", clip=False),
        (inside * np.float32(65535.0) + np.float32(0.5)).astype(np.uint16),  # the tint's pass
    )


def test_the_opencv_path_for_8_bit_mattes_rounds_as_numpy_does():
    """2-D float32 -> uint8 goes through cv2.convertScaleAbs (one pass); it must give the codes
    np.round gives, ties included: every float32 within 300 steps of each k + 0.5, and more."""
    centres = ((np.arange(255) + 0.5) / 255).astype(np.float32)
    steps = np.arange(-300, 301, dtype=np.int32)
    near = (centres.view(np.int32)[:, None] + steps[None, :]).view(np.float32)
    rng = np.random.default_rng(11)
    spread = rng.random(200_000, dtype=np.float32)
    for values in (near, spread.reshape(400, 500), to_float(np.arange(65536, dtype=np.uint16))):
        values = np.ascontiguousarray(values.reshape(values.shape[0], -1))
        expected = np.round(values.astype(np.float32) * np.float32(255.0)).astype(np.uint8)
        assert np.array_equal(to_codes(values, np.uint8), expected)
        assert np.array_equal(to_codes(values, np.uint8, clip=False), expected)
    ties = near * np.float32(255.0) == np.floor(near * np.float32(255.0)) + 0.5
    assert ties.any()  # the neighbourhoods hold exact ties, so half to even was checked
    assert to_codes(np.zeros((0, 4), np.float32), np.uint8).shape == (0, 4)


def test_depth_to_depth_is_exact_between_8_and_16_bits():
    c8 = np.arange(256, dtype=np.uint8)
    c16 = convert_depth(c8, np.uint16)
    assert c16.dtype == np.uint16 and c16[-1] == 65535 and c16[1] == 257
    assert np.array_equal(convert_depth(c16, np.uint8), c8)
    all16 = np.arange(65536, dtype=np.uint16)
    assert np.array_equal(convert_depth(all16, np.uint8), np.round(all16 / 257.0).astype(np.uint8))
    as_float = convert_depth(all16, np.float32)
    assert as_float.dtype == np.float32 and np.array_equal(
        convert_depth(as_float, np.uint16), all16
    )
    assert convert_depth(c8, np.uint8) is c8


def test_to_float_copies_float_input():
    x = np.linspace(0, 1, 5, dtype=np.float32)
    y = to_float(x)
    assert np.array_equal(x, y) and y is not x
    assert to_float(x, np.float64).dtype == np.float64


def test_float64_images_round_from_their_own_precision():
    """to_uint8_rgb of a float64 photo rounds the float64 product (no float32 step between)."""
    from skyseg_core.matte import to_uint8_rgb

    k = np.arange(255, dtype=np.float64)
    x = np.repeat(((k + 0.5 - 1e-7) / 255.0).reshape(15, 17, 1), 3, axis=2)  # just below ties
    through_float32 = np.round(x.astype(np.float32) * np.float32(255.0)).astype(np.uint8)
    assert not np.array_equal(through_float32, np.round(x * 255.0))  # the case is real
    assert np.array_equal(to_uint8_rgb(x), np.round(x * 255.0).astype(np.uint8))
    strided = np.random.default_rng(4).random((40, 60), dtype=np.float32)[:, ::3]
    assert np.array_equal(
        to_codes(strided, np.uint8), np.round(strided * np.float32(255.0)).astype(np.uint8)
    )
