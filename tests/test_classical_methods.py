"""Behaviour of the parts of the classical methods, on small synthetic scenes."""

from __future__ import annotations

import numpy as np
import pytest

from skyseg_core.methods._common import fisheye_outside, keep_connected
from skyseg_core.methods.color import color_sky_matte
from skyseg_core.methods.contour import contour_sky_matte
from skyseg_core.methods.gradient import (
    _running_moments,
    border_energy,
    correct_fake_sky,
    gradient_sky_matte,
    has_no_sky,
)

H, W = 96, 128


def _scene(sky_rgb, ground_rgb, horizon=0.5, noise=0.01, seed=0, ground_texture=0.06):
    """Sky colour above a horizon row, textured ground below; returns (float image, truth)."""
    rng = np.random.default_rng(seed)
    rows = np.arange(H)[:, None, None]
    sky = rows < int(horizon * H)
    image = np.where(sky, np.array(sky_rgb, np.float32), np.array(ground_rgb, np.float32))
    texture = rng.normal(0, ground_texture, (H, W, 1)) * ~sky
    image = np.clip(image + texture + rng.normal(0, noise, (H, W, 3)), 0, 1).astype(np.float32)
    return image, np.broadcast_to(sky[..., 0], (H, W))


def _iou(matte, truth):
    pred = matte >= 0.5
    return (pred & truth).sum() / max((pred | truth).sum(), 1)


@pytest.mark.parametrize(
    "sky_rgb",
    [(0.35, 0.55, 0.9), (0.82, 0.83, 0.85), (0.6, 0.62, 0.66), (0.98, 0.62, 0.3)],
    ids=["blue", "overcast-white", "overcast-grey", "sunset"],
)
def test_color_branches_find_each_kind_of_sky(sky_rgb):
    image, truth = _scene(sky_rgb, (0.2, 0.3, 0.12))
    matte = color_sky_matte(image)
    assert matte.dtype == np.float32 and matte.shape == (H, W)
    assert _iou(matte, truth) > 0.9


def test_color_warm_branch_needs_a_warm_top():
    # an orange wall low in the frame under a blue sky is not taken as sunset sky
    image, truth = _scene((0.35, 0.55, 0.9), (0.95, 0.6, 0.3), ground_texture=0.0)
    assert (color_sky_matte(image)[~truth] < 0.5).mean() > 0.9


def test_color_connectivity_drops_blue_not_touching_the_top():
    image, truth = _scene((0.35, 0.55, 0.9), (0.2, 0.3, 0.12), horizon=0.3)
    image[70:80, 50:60] = (0.3, 0.5, 0.9)  # a small blue sign on the ground
    matte = color_sky_matte(image)
    assert matte[72:78, 52:58].max() < 0.5
    assert matte[5:20].min() > 0.5


def test_color_fills_small_holes_but_keeps_large_ground():
    image, truth = _scene((0.35, 0.55, 0.9), (0.2, 0.3, 0.12))
    image[10:13, 40:44] = 0.05  # a bird
    matte = color_sky_matte(image)
    assert matte[11, 42] > 0.5
    assert (matte[truth] >= 0.5).mean() > 0.9 and (matte[~truth] < 0.5).mean() > 0.97


def test_color_fisheye_uses_the_centre_and_drops_white_corners():
    yy, xx = np.mgrid[0:H, 0:H]
    r = np.hypot(yy - (H - 1) / 2, xx - (H - 1) / 2) / (H / 2)
    image = np.ones((H, H, 3), np.float32)  # white outside the circle
    image[r <= 1.0] = (0.2, 0.3, 0.12)  # ring of trees
    image[r < 0.6] = (0.45, 0.6, 0.9)  # sky at the zenith
    assert fisheye_outside(image) is not None
    matte = color_sky_matte(image)
    assert matte[H // 2, H // 2] > 0.5
    assert matte[0, 0] < 0.5 and matte[-1, -1] < 0.5
    assert fisheye_outside(_scene((0.8, 0.8, 0.8), (0.2, 0.3, 0.1))[0]) is None


def test_keep_connected():
    mask = np.zeros((10, 10), bool)
    mask[0:3, 0:3] = True
    mask[6:9, 6:9] = True
    seed = np.zeros_like(mask)
    seed[0] = True
    kept = keep_connected(mask, seed)
    assert kept[1, 1] and not kept[7, 7]


def test_contour_keeps_sky_seen_through_a_hole():
    image, truth = _scene((0.75, 0.8, 0.9), (0.15, 0.15, 0.15), horizon=0.3, ground_texture=0.0)
    image[28:90, 20:110] = 0.15  # a dark wall rising above the horizon...
    image[40:60, 50:80] = (0.75, 0.8, 0.9)  # ...with a window onto the sky
    image[65:75, 55:70] = (0.85, 0.85, 0.85)  # and a small white patch too small to count
    matte = contour_sky_matte(image)
    assert matte[45:55, 55:75].min() > 0.5, "sky seen through the hole is kept"
    assert matte[:20].min() > 0.5
    assert matte[80:, :].max() < 0.5


def test_contour_drops_a_bright_hole_of_another_colour():
    image, _ = _scene((0.45, 0.6, 0.95), (0.1, 0.1, 0.1), horizon=0.3, ground_texture=0.0)
    image[50:80, 40:90] = (0.95, 0.85, 0.4)  # a bright yellow sign in the dark ground
    assert contour_sky_matte(image)[55:75, 45:85].max() < 0.5


def test_gradient_energy_peaks_at_the_true_border():
    image, truth = _scene((0.4, 0.6, 0.9), (0.25, 0.3, 0.15))
    s1, s2 = _running_moments(image * 255)
    true_row = int(0.5 * H)
    energies = {row: border_energy(np.full(W, row), s1, s2) for row in (10, 30, true_row, 70, 90)}
    assert max(energies, key=energies.get) == true_row


def test_gradient_matte_follows_a_wavy_horizon():
    from conftest import synthetic_landscape

    image, truth = synthetic_landscape(H, W)
    assert _iou(gradient_sky_matte(image.astype(np.float32) / 255), truth) > 0.9


def test_gradient_no_sky_test():
    assert has_no_sky(np.full(50, 1), 100, 1 / 30, 1 / 4, 1 / 50)
    assert has_no_sky(np.array([5, 20] * 25), 100, 1 / 30, 1 / 4, 1 / 50)  # near the top, ragged
    assert not has_no_sky(np.full(50, 40), 100, 1 / 30, 1 / 4, 1 / 50)
    image, _ = _scene((0.2, 0.3, 0.12), (0.2, 0.3, 0.12), horizon=0.0, ground_texture=0.08)
    assert gradient_sky_matte(image).max() < 0.5


def test_gradient_fake_sky_correction_clears_columns_of_ground_colour():
    image, truth = _scene((0.4, 0.6, 0.95), (0.3, 0.25, 0.2), horizon=0.4, ground_texture=0.0)
    border = np.full(W, int(0.4 * H))
    border[80:] = H - 10  # a smooth brown wall in columns 80+ was taken as sky
    corrected = correct_fake_sky(image, border)
    assert (corrected[80:] == 0).all()
    assert (corrected[:80] == border[:80]).all()
