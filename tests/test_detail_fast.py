"""The detail stage's fast feature code against the implementation it replaced.

``_ReferenceMaps`` below is the stage's feature code as it was before it was optimised (plain
NumPy, one temporary per step; ``skyseg_core/detail.py`` at commit 36e13dd), with feature
version 5's changes: Gaussian windows for the local models (``_window``) and the ``refined``
feature's guided filter solved at half size. The shipped code must decide the same: the same
band, feature rows within float32 rounding, and the same matte (detail stage and the whole
``segment`` path) on real photos.
"""

from __future__ import annotations

import importlib

import cv2
import numpy as np
import pytest
from conftest import ROOT, synthetic_landscape, validation_subset

from skyseg_core import load_image, segment
from skyseg_core.detail import (
    _PRIOR_WEIGHT,
    BAND_FAR,
    BAND_SKY,
    BAND_SKY_AROUND,
    BAND_SKY_COLOUR,
    FEATURE_NAMES,
    RADII,
    REFINED_SHRINK,
    SURE_GROUND,
    SURE_SKY,
    TEXTURE_RADIUS,
    _Maps,
    detail_alpha,
    detail_features,
    detail_matte,
    shipped_detail_model,
)
from skyseg_core.matte import to_float_rgb
from skyseg_core.methods import get_method
from skyseg_core.methods._base import resize_long_side
from skyseg_core.refine import refine

ROW_TOLERANCE = 1e-6
"""Largest feature difference allowed (the two agree bit for bit on this machine)."""

MATTE_TOLERANCE = 1e-6
"""Largest alpha difference allowed between the fast and the reference stage."""


# --- the reference: skyseg_core/detail.py before the optimisation (36e13dd), verbatim ---------


def _box(planes, radius):
    size = 2 * radius + 1
    return cv2.boxFilter(planes, -1, (size, size), borderType=cv2.BORDER_REFLECT)


def _local_std(plane, radius):
    mean = _box(plane, radius)
    return np.sqrt(np.maximum(_box(plane * plane, radius) - mean * mean, 0.0))


def _window(planes, radius):  # feature version 5: a Gaussian window, blurred shrunk
    sigma = radius / np.sqrt(3.0)
    factor = max(1, int(sigma // 4))
    h, w = planes.shape[:2]
    small = planes
    if factor > 1:
        size = (max(1, round(w / factor)), max(1, round(h / factor)))
        small = cv2.resize(planes, size, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor, borderType=cv2.BORDER_REFLECT)
    if factor == 1:
        return small
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _local_sums(image, weight, radius):
    # the colour sums and the density windowed as one four-channel image, as the stage does
    # (OpenCV rounds a three-channel resize differently in the last bit)
    windowed = _window(np.dstack([image * weight[..., None], weight]), radius)
    return windowed[..., :3], windowed[..., 3]


def _global_mean(image, weight, default):
    total = float(weight.sum())
    if total < 1.0:
        return np.array(default, np.float32)
    return (image * weight[..., None]).reshape(-1, 3).sum(axis=0).astype(np.float32) / total


def _band(coarse, sky_near, sky_far, to_photo_sky_ms, sky_share):
    inside_open_sky = (coarse > BAND_SKY) & (sky_near > BAND_SKY_AROUND)
    sky_coloured = (sky_share > 0) & (to_photo_sky_ms < BAND_SKY_COLOUR**2)
    return ~inside_open_sky & ((sky_far >= BAND_FAR) | sky_coloured)


class _ReferenceMaps:
    def __init__(self, image, coarse, long_side=None):
        h, w = coarse.shape
        self.shape = (h, w)
        scale = max(h, w) if long_side is None else long_side
        sure_sky = (coarse > SURE_SKY).astype(np.float32)
        sure_ground = (coarse < SURE_GROUND).astype(np.float32)
        self.sky_colour = _global_mean(image, sure_sky, (0.55, 0.7, 0.9))
        self.ground_colour = _global_mean(image, sure_ground, (0.3, 0.3, 0.25))
        self.sky_share = np.float32(sure_sky.mean())
        luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        kernel = np.ones((3, 3), np.uint8)
        self.image = image
        self.planes = {
            "coarse": coarse,
            "refined": refine(image, coarse, working_size=-(-max(h, w) // REFINED_SHRINK)),
            "luma_contrast": cv2.dilate(luma, kernel) - cv2.erode(luma, kernel),
            "texture": _local_std(luma, max(1, round(TEXTURE_RADIUS * scale))),
        }
        self.sums = []
        for fraction in RADII:
            radius = max(1, round(fraction * scale))
            self.sums.append(
                (
                    *_local_sums(image, sure_sky, radius),
                    *_local_sums(image, sure_ground, radius),
                    _window(coarse, radius),
                )
            )

    def band(self):
        sky_near, sky_far = self.sums[0][1], self.sums[-1][1]
        to_sky = self.image - self.sky_colour
        return _band(
            self.planes["coarse"], sky_near, sky_far, (to_sky * to_sky).mean(axis=2), self.sky_share
        )

    def rows(self, index=None):
        def at(plane):
            flat = plane.reshape(-1, *plane.shape[2:])
            return flat if index is None else flat[index]

        n = self.shape[0] * self.shape[1] if index is None else len(index)
        pixel = at(self.image)
        row = np.arange(self.shape[0], dtype=np.float32) / max(1, self.shape[0] - 1)
        rows_of = np.repeat(row, self.shape[1]) if index is None else row[index // self.shape[1]]
        columns = [
            at(self.planes["coarse"])[:, None],
            at(self.planes["refined"])[:, None],
            pixel,
            at(self.planes["luma_contrast"])[:, None],
            at(self.planes["texture"])[:, None],
            rows_of[:, None],
            pixel - self.sky_colour,
            np.full((n, 1), self.sky_share, np.float32),
        ]
        for sky_sum, sky_density, ground_sum, ground_density, coarse_mean in self.sums:
            sky_d, ground_d = at(sky_density)[:, None], at(ground_density)[:, None]
            sky_mean = (at(sky_sum) + _PRIOR_WEIGHT * self.sky_colour) / (sky_d + _PRIOR_WEIGHT)
            ground_mean = (at(ground_sum) + _PRIOR_WEIGHT * self.ground_colour) / (
                ground_d + _PRIOR_WEIGHT
            )
            to_ground = pixel - ground_mean
            axis = sky_mean - ground_mean
            alpha = np.einsum("nc,nc->n", to_ground, axis) / (
                np.einsum("nc,nc->n", axis, axis) + 1e-3
            )
            columns += [
                pixel - sky_mean,
                to_ground,
                sky_d,
                ground_d,
                np.clip(alpha, -1.0, 2.0)[:, None],
                at(coarse_mean)[:, None],
            ]
        return np.concatenate(columns, axis=1, dtype=np.float32)


def _reference_detail_matte(image, coarse, model, small=None):
    del small  # segment's copy made on another thread: the reference shrinks the photo itself
    small = to_float_rgb(resize_long_side(image, model.working_size))
    h, w = small.shape[:2]
    if coarse.shape != (h, w):
        coarse = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)
    coarse = np.clip(coarse, 0.0, 1.0).astype(np.float32, copy=False)
    maps = _ReferenceMaps(small, coarse)
    band = maps.band()
    matte = coarse.copy()
    matte[band] = model.alpha(maps.rows(np.flatnonzero(band)))
    return np.clip(matte, 0.0, 1.0, out=matte)


# --- the comparisons ----------------------------------------------------------------------------


def _photos():
    """Real photos of every kind the stage meets: canopy, city, road, webcam, and the sample."""
    samples = validation_subset(
        {
            "fisheye_gnss_sky": 2,
            "ade20k_skyopt_cvprw2020": 2,
            "camvid_segnet": 1,
            "skyfinder_subset_bakkopi": 1,
            "stanford_background_iccv09": 1,
        }
    )
    yield "rocket", load_image(ROOT / "assets" / "samples" / "rocket.jpg")
    for sample in samples:
        yield sample.image.name, load_image(sample.image)


def _difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b).max()) if a.size else 0.0


def test_band_rows_and_matte_equal_the_reference_on_real_photos():
    model = shipped_detail_model()
    assert model is not None
    network = get_method("deeplab")
    shares = []
    for name, image in _photos():
        small = to_float_rgb(resize_long_side(image, model.working_size))
        coarse = network.coarse(image)
        h, w = small.shape[:2]
        coarse_small = np.clip(cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR), 0, 1)
        fast, reference = _Maps(small, coarse_small), _ReferenceMaps(small, coarse_small)
        band = fast.band()
        assert np.array_equal(band, reference.band()), name
        shares.append(band.mean())
        index = np.flatnonzero(band)
        rows, expected = fast.rows(index), reference.rows(index)
        assert rows.shape == expected.shape == (len(index), len(FEATURE_NAMES)), name
        assert rows.dtype == np.float32 and rows.flags.c_contiguous
        assert _difference(rows, expected) < ROW_TOLERANCE, (name, _difference(rows, expected))
        matte = detail_matte(image, coarse, model)
        assert _difference(matte, _reference_detail_matte(image, coarse, model)) < MATTE_TOLERANCE
    # open skies and canopies both met (the smallest band 0.24 of a photo with network version 2)
    assert min(shares) < 0.25 and max(shares) > 0.5, shares


def test_every_pixels_features_and_the_brush_alpha_equal_the_reference():
    model = shipped_detail_model()
    image, _ = synthetic_landscape(120, 160, seed=5)
    small = to_float_rgb(image)
    rng = np.random.default_rng(0)
    coarse = np.clip(
        cv2.GaussianBlur((small[..., 2] > 0.5).astype(np.float32), (0, 0), 4)
        + rng.normal(0, 0.05, small.shape[:2]).astype(np.float32),
        0,
        1,
    ).astype(np.float32)
    features = detail_features(small, coarse)
    expected = _ReferenceMaps(small, coarse).rows().reshape(features.shape)
    assert _difference(features, expected) < ROW_TOLERANCE
    # the editor's brush: a crop whose radii are fractions of a larger photo
    where = np.zeros(coarse.shape, bool)
    where[30:90, 40:120] = True
    alpha = detail_alpha(image, coarse, model, where, long_side=480)
    reference = _ReferenceMaps(small, coarse, 480)
    out = coarse.copy()
    out[where] = model.alpha(reference.rows(np.flatnonzero(where)))
    assert _difference(alpha, np.clip(out, 0, 1)) < MATTE_TOLERANCE


@pytest.mark.slow
def test_the_whole_auto_path_equals_the_reference_at_full_size(monkeypatch):
    """``segment`` at 12 MP: only the detail stage's code differs between the two runs."""
    segment_module = importlib.import_module("skyseg_core.segment")

    image = cv2.resize(
        load_image(ROOT / "assets" / "samples" / "rocket.jpg"),
        (4000, 3000),
        interpolation=cv2.INTER_CUBIC,
    )
    fast = segment(image)
    monkeypatch.setattr(segment_module, "detail_matte", _reference_detail_matte)
    reference = segment(image)
    assert fast.shape == (3000, 4000)
    assert _difference(fast, reference) < MATTE_TOLERANCE
