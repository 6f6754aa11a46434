"""Refinement: properties of the confidence-weighted colour guided filter, and pinned values."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import synthetic_landscape

from skyseg_core.errors import InputError, MatteError
from skyseg_core.refine import refine


def step_image(height=40, width=60, edge=30, left=(70, 130, 230), right=(40, 80, 30)):
    """Sky colour left of column ``edge``, foliage colour right of it."""
    image = np.empty((height, width, 3), np.uint8)
    image[:, :edge] = left
    image[:, edge:] = right
    return image


def blurry_matte(height=40, width=60, centre=25.0, width_px=12.0):
    """A soft left-to-right ramp from 1 to 0 centred on the wrong column."""
    x = np.arange(width, dtype=np.float32)
    ramp = np.clip(0.5 - (x - centre) / width_px, 0, 1)
    return np.repeat(ramp[None, :], height, axis=0).astype(np.float32)


def crossing(row: np.ndarray) -> float:
    """Column where a decreasing profile crosses 0.5 (linear interpolation)."""
    i = int(np.argmax(row < 0.5))
    return i - 1 + (row[i - 1] - 0.5) / (row[i - 1] - row[i])


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("matte_shape", [(30, 40), (60, 80), (120, 160)])
def test_output_is_a_matte_at_the_image_size(dtype, matte_shape):
    image, truth = synthetic_landscape(120, 160, dtype=dtype)
    coarse = cv2.resize(truth.astype(np.float32), matte_shape[::-1], interpolation=cv2.INTER_AREA)
    out = refine(image, coarse, working_size=64)
    assert out.dtype == np.float32 and out.shape == (120, 160)
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert ((out > 0.5) == truth).mean() > 0.97


@pytest.mark.parametrize("guide", ["color", "luma"])
@pytest.mark.parametrize("working_size", [60, 16])
def test_a_step_edge_in_the_photo_pulls_the_transition_onto_it(guide, working_size):
    image, matte = step_image(), blurry_matte(centre=25.0)
    out = refine(image, matte, radius=0.15, working_size=working_size, guide=guide)
    row = out[20]
    assert crossing(matte[20]) == pytest.approx(25.0, abs=0.1)
    assert crossing(row) == pytest.approx(29.5, abs=1.0)  # the edge lies between columns 29 and 30
    # the matte now drops at the edge (the coarse one fell by 0.083 per column) and the
    # foliage side is clear
    assert row[29] - row[30] > 0.4
    assert row[31:].max() < 0.1 and matte[20, 26] > 0.4


def test_colour_guide_separates_sky_and_foliage_of_equal_luma():
    blue, green = np.array([60, 110, 230]), np.array([85, 142, 0])
    luma = np.array([0.299, 0.587, 0.114])
    assert abs(luma @ blue - luma @ green) < 1.5
    image, matte = step_image(left=tuple(blue), right=tuple(green)), blurry_matte(centre=25.0)
    colour = refine(image, matte, radius=0.15, guide="color")[20]
    grey = refine(image, matte, radius=0.15, guide="luma")[20]
    assert crossing(colour) == pytest.approx(29.5, abs=1.0) and colour[29] - colour[30] > 0.4
    assert (
        abs(crossing(grey) - 29.5) > 2.0 and grey[29] - grey[30] < 0.15
    )  # luma sees no edge there


def test_confident_regions_stay_put_on_a_textured_photo():
    rng = np.random.default_rng(1)
    image = (rng.random((64, 64, 3)) * 255).astype(np.uint8)  # texture everywhere
    matte = np.zeros((64, 64), np.float32)
    matte[:24] = 1.0
    matte[24:40] = np.linspace(1, 0, 16, dtype=np.float32)[:, None]
    out = refine(image, matte, radius=0.05)
    assert np.abs(out[:16] - 1).max() < 0.02
    assert np.abs(out[48:]).max() < 0.02


@pytest.mark.parametrize("value", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("working_size", [768, 12])
def test_a_constant_matte_stays_constant(value, working_size):
    image, _ = synthetic_landscape(50, 70)
    out = refine(image, np.full((10, 14), value, np.float32), working_size=working_size)
    np.testing.assert_allclose(out, value, atol=1e-4)


def test_16_bit_and_float_guides_agree_with_8_bit():
    image8, truth = synthetic_landscape(90, 120, seed=2)
    coarse = cv2.resize(truth.astype(np.float32), (30, 22), interpolation=cv2.INTER_AREA)
    expected = refine(image8, coarse, working_size=40)
    # (the 8-bit working guide holds block means rounded to 1/255, the others do not: a small difference)
    image16 = image8.astype(np.uint16) * 257
    np.testing.assert_allclose(refine(image16, coarse, working_size=40), expected, atol=0.03)
    imagef = image8.astype(np.float32) / 255
    np.testing.assert_allclose(refine(imagef, coarse, working_size=40), expected, atol=0.03)
    np.testing.assert_allclose(
        refine(imagef.astype(np.float64), coarse, working_size=40),
        refine(imagef, coarse, working_size=40),
        atol=2e-3,
    )
    np.testing.assert_allclose(
        refine(image16, coarse, working_size=160),
        refine(image8, coarse, working_size=160),
        atol=2e-3,
    )  # no shrinking, no rounding


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (2, 2), (3, 5000), (5000, 2), (5, 3)])
def test_tiny_and_thin_images(shape):
    h, w = shape
    image = np.zeros((h, w, 3), np.uint8)
    image[: max(1, h // 2)] = (90, 150, 230)
    matte = np.zeros((h, w), np.float32)
    matte[: max(1, h // 2)] = 1.0
    small = np.clip(
        cv2.resize(matte, (max(1, w // 3), max(1, h // 3)), interpolation=cv2.INTER_AREA), 0, 1
    )
    for coarse in (matte, small):
        out = refine(image, coarse, working_size=64)
        assert out.shape == (h, w) and out.dtype == np.float32
        assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


def test_the_detail_shortcut_stays_within_its_tolerance():
    image, truth = synthetic_landscape(480, 640, seed=4)
    rng = np.random.default_rng(0)
    image = np.clip(image.astype(np.int16) + rng.integers(-20, 21, image.shape), 0, 255).astype(
        np.uint8
    )
    coarse = cv2.GaussianBlur(
        cv2.resize(truth.astype(np.float32), (64, 48), interpolation=cv2.INTER_AREA), (0, 0), 1.0
    )
    exact = refine(image, coarse, working_size=128, detail_tolerance=0.0)
    for tolerance in (1 / 1024, 1 / 64):
        fast = refine(image, coarse, working_size=128, detail_tolerance=tolerance)
        # a heuristic bound: pixel noise finer than a working pixel may exceed it a little
        assert np.abs(fast - exact).max() <= 2 * tolerance
        assert np.abs(fast - exact).mean() <= tolerance / 20
    assert (
        np.abs(refine(image, coarse, working_size=128, detail_tolerance=1 / 64) - exact).max() > 0
    )  # shortcut taken


def reference_refine(image, matte, radius=0.01, eps=1e-3, power=2.0, floor=0.01, working_size=768):
    """Plain-numpy reference of the algorithm (float64, per-pixel 3x3 solve), uint8 images only.

    Block-average guide (block means rounded to uint8 as OpenCV does), weighted colour guided
    filter, box-averaged coefficients, bilinear upsampling (pixel centres, edges clamped), clip.
    """
    img = image.astype(np.float64) / 255.0
    H, W = img.shape[:2]
    k = max(1, -(-max(H, W) // working_size))
    fy, fx = min(k, H), min(k, W)
    h, w = H // fy, W // fx
    I = img[: h * fy, : w * fx].reshape(h, fy, w, fx, 3).mean(axis=(1, 3))  # noqa: E741
    if fy * fx > 1:
        I = np.round(I * 255) / 255  # noqa: E741
    p = matte.astype(np.float64)
    r = max(1, round(radius * max(h, w)))

    def box(x):
        xp = np.pad(x, [(r, r), (r, r)] + [(0, 0)] * (x.ndim - 2), mode="symmetric")
        out = np.zeros_like(x)
        for dy in range(2 * r + 1):
            for dx in range(2 * r + 1):
                out += xp[dy : dy + h, dx : dx + w]
        return out / (2 * r + 1) ** 2

    c = np.abs(2 * p - 1) ** power + floor
    wsum = box(c)
    mI = box(c[..., None] * I) / wsum[..., None]
    mp = box(c * p) / wsum
    cov = box(c[..., None] * I * p[..., None]) / wsum[..., None] - mI * mp[..., None]
    II = box(c[..., None, None] * I[..., :, None] * I[..., None, :]) / wsum[..., None, None]
    sigma = II - mI[..., :, None] * mI[..., None, :] + eps * np.eye(3)
    a = np.linalg.solve(sigma, cov[..., None])[..., 0]
    b = mp - (a * mI).sum(-1)
    a, b = box(a), box(b)

    def up(x, n, f, axis):
        src = np.clip((np.arange(n) + 0.5) / f - 0.5, 0, x.shape[axis] - 1)
        i0 = np.floor(src).astype(int)
        i1 = np.minimum(i0 + 1, x.shape[axis] - 1)
        t = (src - i0).reshape([n if d == axis else 1 for d in range(x.ndim)])
        return np.take(x, i0, axis) * (1 - t) + np.take(x, i1, axis) * t

    A = up(up(np.concatenate([a, b[..., None]], -1), H, fy, 0), W, fx, 1)
    return np.clip((A[..., :3] * img).sum(-1) + A[..., 3], 0, 1)


@pytest.mark.parametrize("shape,working_size", [((26, 35), 64), ((26, 35), 9), ((31, 20), 7)])
def test_matches_the_reference_implementation(shape, working_size):
    rng = np.random.default_rng(7)
    image = (rng.random((*shape, 3)) * 255).astype(np.uint8)
    image[:10] = (90, 150, 230)
    k = -(-max(shape) // working_size)
    matte = rng.random((shape[0] // k, shape[1] // k)).astype(np.float32)
    expected = reference_refine(image, matte, radius=0.1, eps=1e-3, working_size=working_size)
    np.testing.assert_allclose(
        refine(image, matte, radius=0.1, eps=1e-3, working_size=working_size, detail_tolerance=0),
        expected,
        atol=2e-4,
    )


def test_pinned_values():
    # Computed with reference_refine above (float64):
    #   image, truth = synthetic_landscape(24, 32, seed=3)
    #   coarse = cv2.resize(truth.astype(np.float32), (8, 6), interpolation=cv2.INTER_AREA)
    #   ref = reference_refine(image, coarse, working_size=8, radius=0.15, eps=1e-3)
    #   [round(float(ref[y, x]), 6) for y, x in PINNED]
    image, truth = synthetic_landscape(24, 32, seed=3)
    coarse = cv2.resize(truth.astype(np.float32), (8, 6), interpolation=cv2.INTER_AREA)
    out = refine(image, coarse, working_size=8, radius=0.15, eps=1e-3)
    pinned = {
        (0, 0): 1.0,
        (10, 5): 0.998429,
        (12, 20): 0.95271,
        (14, 31): 0.063816,
        (23, 17): 0.002763,
        (13, 9): 0.969788,
    }
    for (y, x), value in pinned.items():
        assert out[y, x] == pytest.approx(value, abs=2e-3), (y, x)


def test_bad_arguments_raise_typed_errors():
    image, _ = synthetic_landscape(20, 30)
    matte = np.zeros((20, 30), np.float32)
    with pytest.raises(InputError, match="guide"):
        refine(image, matte, guide="hsv")
    with pytest.raises(MatteError):
        refine(image, matte.astype(np.float64))
    with pytest.raises(MatteError):
        refine(image, matte + 2)
    with pytest.raises(InputError):
        refine(image[..., 0], matte)
    with pytest.raises(InputError):
        refine(image, matte, eps=0)
    nan_image = image.astype(np.float32) / 255
    nan_image[3, 4, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        refine(nan_image, matte)
