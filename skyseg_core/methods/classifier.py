"""``classifier``: per-pixel sky classification with features chosen to transfer across cameras.

A gradient-boosted tree ensemble (scikit-learn ``HistGradientBoostingClassifier``, trained by
``scripts/train_classifier.py`` on the train split of the shared data) scores every pixel of
the photo at a small working size (:func:`sky_features`, the one feature function both training
and inference use); a connectivity clean-up (:func:`connected_sky`) then drops small sky islands
away from the main sky and fills small holes in it. The model ships as ONNX
(``assets/models/classifier.onnx``, pinned by SHA-256) and runs with onnxruntime, so
scikit-learn is not needed at run time. The model card is ``assets/models/classifier.md``.

The features were chosen by the leave-one-dataset-out figure (``scripts/lodo_classical.py``:
trained on every dataset but one, scored on the one left out), not by the validation split:
besides absolute colour they describe each pixel relative to its own photo (colour z-scores
and ranks within the image, texture at four scales divided by the image's median gradient),
relative to the photo's own horizon estimate (the Shen & Wang border of
:func:`~skyseg_core.methods.gradient.optimal_border`) and relative to its column (strongest
edge and share of textured pixels above it). Upward fisheye frames are unwrapped to a polar
panorama (zenith at the top, the rim at the bottom) before the features are computed and the
features are mapped back, so they look like the ordinary photos the model learned from.

Failure modes
-------------
From the ten worst overlays of ``scripts/lodo_classical.py --overlays`` (each fold's model on
the dataset it was not trained on):

- A smooth top of the frame that is not sky reads as sky: an out-of-focus field behind an
  animal, white ceilings and upper walls of indoor rooms (ADE20K's sky-free photos).
- Clouds the training data did not show in that light are missed while the blue around them is
  kept: bright white and grey clouds of upward fisheye skies, a dull grey dashcam sky.
- Thin structures (wires, masts, bare branches) vanish at the working size; refinement brings
  only part of them back, and a canopy with sky between its leaves is judged leaf by leaf
  (Stanford's labels call the whole canopy non-sky).
- The connectivity clean-up drops a true patch of sky that is small, cut off from the main sky
  and not confident (sky seen under a bridge or through a window).
- Night skies and dense haze: too few such frames in any training set.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np

from .._threads import compute_threads
from ..errors import ModelFileError
from ..models import checked_model_file, is_model_available, onnx_session
from . import register
from ._base import SkyMethod
from ._common import fisheye_outside, gradient_magnitude, grey, local_std
from .gradient import optimal_border

MODEL_NAME = "classifier.onnx"
MODEL_ENV = "SKYSEG_CLASSIFIER_MODEL"
FEATURE_VERSION = 2

FEATURE_NAMES = (
    "lab_l", "lab_a", "lab_b", "sat", "val", "hue_cos_sat", "hue_sin_sat", "chrom_r", "chrom_b",
    "z_l", "z_a", "z_b", "rank_l", "rank_b",
    "row", "radius", "outside_fisheye",
    "below_border", "below_horizon", "horizon", "border_spread",
    "g0", "g1", "g2", "g3", "rg0", "rg1", "rg2", "rg3",
    "std5", "std11", "std25", "rstd5", "rstd25", "dens1", "dens2", "rdens1",
    "ctx_l", "ctx_a", "ctx_b", "ctx2_l", "ctx2_b",
    "above_max_grad", "tex_above", "above_mean_l", "below_mean_l",
    "top_dist", "ref_dist",
    "img_l", "img_std_l", "img_gscale", "top_l", "top_tex", "top_b",
)  # fmt: skip
"""Names of the columns :func:`sky_features` returns, in order (see its docstring)."""


def _rank(values: np.ndarray) -> np.ndarray:
    """Each value's rank within the array, scaled to [0, 1] (ties broken by position)."""
    flat = values.reshape(-1)
    rank = np.empty(flat.size, np.float32)
    rank[np.argsort(flat, kind="stable")] = np.linspace(0.0, 1.0, flat.size, dtype=np.float32)
    return rank.reshape(values.shape)


def _blur(x: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(x, (0, 0), max(1.0, sigma), borderType=cv2.BORDER_REFLECT)


def _plain_features(image: np.ndarray) -> np.ndarray:
    """:func:`sky_features` of an ordinary (not fisheye) frame."""
    h, w = image.shape[:2]
    long_side = max(h, w)
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    hue = np.deg2rad(hsv[..., 0])
    sat, val = hsv[..., 1], hsv[..., 2]
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2Lab) / np.float32(100.0)
    lum = lab[..., 0]
    gray = grey(image)
    total = image.sum(axis=-1) + np.float32(1e-3)
    lab_median = np.median(lab.reshape(-1, 3), axis=0)
    lab_std = lab.reshape(-1, 3).std(axis=0) + np.float32(0.02)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    row = yy / max(h - 1, 1)
    radius = np.hypot((yy - (h - 1) / 2) / max(h / 2, 1), (xx - (w - 1) / 2) / max(w / 2, 1))

    # texture at four scales, absolute and relative to the photo's own median gradient
    grads = [gradient_magnitude(gray, sigma) for sigma in (0.0, 1.0, 2.5, 6.0)]
    g_scale = float(np.median(grads[0])) + 1e-3
    stds = [local_std(gray, size) for size in (5, 11, 25)]
    s_scale = float(np.median(stds[1])) + 1e-3
    density = [_blur(grads[0], f * long_side) for f in (0.02, 0.06)]

    # the photo's own horizon: Shen & Wang's sky border per column, smoothed, and its median
    border = (
        optimal_border(image, gradient_magnitude(gray * np.float32(255.0))).astype(np.float32)
        if h >= 4 and w >= 2
        else np.full(w, h, np.float32)
    )
    smooth = cv2.blur(border[None, :], (max(1, w // 16) | 1, 1), borderType=cv2.BORDER_REFLECT)[0]
    horizon = float(np.median(border))
    spread = float(np.abs(np.diff(border)).mean()) / h if w > 1 else 0.0
    above_border = yy < smooth[None, :]
    top_band = lab[: max(1, h // 10)].reshape(-1, 3)
    reference = lab[above_border] if above_border.sum() > 20 else top_band
    ref_dist = np.linalg.norm(lab - np.median(reference, axis=0), axis=-1)
    top_dist = np.linalg.norm(lab - np.median(top_band, axis=0), axis=-1)

    # context: blurred colour at two scales; the column above and below the pixel
    ctx = _blur(lab, 0.04 * long_side)
    wide_l = _blur(np.ascontiguousarray(lum), 0.12 * long_side)
    wide_b = _blur(np.ascontiguousarray(lab[..., 2]), 0.12 * long_side)
    above_max = np.maximum.accumulate(grads[2] / g_scale, axis=0)
    textured = (grads[1] > 2 * g_scale).astype(np.float32)
    count = np.arange(1, h + 1, dtype=np.float32)[:, None]
    tex_above = np.cumsum(textured, axis=0) / count
    cum = np.cumsum(lum, axis=0)
    above_mean = cum / count - lum
    below_mean = (cum[-1:] - cum + lum) / (h - count + 1) - lum
    top = slice(0, max(1, h // 8))

    def full(value: float) -> np.ndarray:
        return np.full((h, w), value, np.float32)

    columns = [
        lum, lab[..., 1], lab[..., 2], sat, val, np.cos(hue) * sat, np.sin(hue) * sat,
        image[..., 0] / total, image[..., 2] / total,
        (lum - lab_median[0]) / lab_std[0], (lab[..., 1] - lab_median[1]) / lab_std[1],
        (lab[..., 2] - lab_median[2]) / lab_std[2], _rank(lum), _rank(lab[..., 2]),
        row, radius, full(0.0),
        (yy - smooth[None, :]) / h, (yy - horizon) / h, full(horizon / h), full(spread),
        *grads, *(g / g_scale for g in grads),
        *stds, stds[0] / s_scale, stds[2] / s_scale, *density, density[0] / g_scale,
        ctx[..., 0], ctx[..., 1], ctx[..., 2], wide_l - lum, wide_b - lab[..., 2],
        above_max, tex_above, above_mean, below_mean,
        top_dist, ref_dist,
        full(lab_median[0]), full(lab_std[0]), full(g_scale),
        full(lum[top].mean()), full(textured[top].mean()), full(lab[top][..., 2].mean()),
    ]  # fmt: skip
    return np.stack(columns, axis=-1).astype(np.float32, copy=False)


def sky_features(image: np.ndarray, rim: float = 0.97) -> np.ndarray:
    """Per-pixel features for the sky classifier.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), float32 in [0, 1]
        RGB photo at the classifier's working size.
    rim : float
        Radius of an upward fisheye frame's image circle, as a fraction of half the side
        (see :func:`~skyseg_core.methods._common.fisheye_outside`).

    Returns
    -------
    features : ndarray, shape (H, W, len(FEATURE_NAMES)), float32, finite
        In the order of :data:`FEATURE_NAMES`: colour (Lab, HSV saturation and value,
        saturation-weighted hue, red and blue chromaticity); colour relative to the photo
        (Lab z-scores about the photo's median, rank of lightness and of Lab b within the
        photo); position (row fraction, distance from the centre, outside-the-fisheye-circle
        flag); the photo's horizon estimate (signed distance below the per-column Shen & Wang
        border and below its median, the median itself, its raggedness); texture (gradient
        magnitude at blurs of 0, 1, 2.5 and 6 px, absolute and divided by the photo's median
        gradient; local standard deviation in 5, 11 and 25 px boxes, two of them relative;
        edge density at 2 % and 6 % of the longer side); context (Lab blurred at 4 %,
        lightness and Lab b at 12 % minus the pixel's; strongest relative edge and share of
        textured pixels above the pixel in its column; mean lightness above and below it);
        Lab distance to the top band's and to the above-the-horizon colour; photo statistics
        (median and spread of lightness, median gradient, lightness, texture and Lab b of the
        top eighth).

        An upward fisheye frame is unwrapped to a polar panorama (rows: distance from the
        centre, zenith at the top; columns: angle), its features computed there as for an
        ordinary photo and mapped back by nearest sample; ``outside_fisheye`` is 1 outside
        the image circle.
    """
    image = np.ascontiguousarray(image, dtype=np.float32)
    outside = fisheye_outside(image)
    if outside is None:
        return _plain_features(image)
    h, w = image.shape[:2]
    radii, angles = max(4, h // 2), max(8, int(np.pi * w) // 2)
    r = (np.arange(radii, dtype=np.float32) + 0.5) / radii * rim
    theta = np.arange(angles, dtype=np.float32) / angles * np.float32(2 * np.pi)
    map_x = ((w - 1) / 2 + np.outer(r, np.cos(theta)) * (w / 2)).astype(np.float32)
    map_y = ((h - 1) / 2 + np.outer(r, np.sin(theta)) * (h / 2)).astype(np.float32)
    polar = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    features = _plain_features(polar)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dy, dx = (yy - (h - 1) / 2) / (h / 2), (xx - (w - 1) / 2) / (w / 2)
    ri = np.clip(np.floor(np.hypot(dy, dx) / rim * radii), 0, radii - 1).astype(np.int64)
    ti = np.mod(np.round(np.mod(np.arctan2(dy, dx), 2 * np.pi) / (2 * np.pi) * angles), angles)
    out = features[ri, ti.astype(np.int64)]
    out[..., FEATURE_NAMES.index("outside_fisheye")] = outside
    return out


def connected_sky(
    probability: np.ndarray,
    seed: np.ndarray | None = None,
    *,
    top_band: float = 0.05,
    min_area: float = 0.002,
    confident: float = 0.8,
    max_hole_area: float = 0.001,
) -> np.ndarray:
    """Connectivity clean-up of a sky probability (sky = probability >= 0.5).

    Parameters
    ----------
    probability : ndarray, shape (H, W), float32 in [0, 1]
    seed : ndarray, shape (H, W), bool, optional
        Where the main sky is expected; default: the top ``top_band`` of the height.
    top_band : float
        A sky component is kept if it touches the seed...
    min_area : float
        ...and covers at least this fraction of the frame...
    confident : float
        ...or, away from the top, if its mean probability is at least this. Dropped
        components keep a quarter of their probability (at most 0.25): still soft, never sky.
    max_hole_area : float
        Non-sky components smaller than this fraction of the frame that do not touch the
        frame's edge (holes in the sky: specks, thin branches) are raised to 0.51.

    Returns
    -------
    probability : ndarray, shape (H, W), float32 in [0, 1]
    """
    p = np.asarray(probability, np.float32)
    h, w = p.shape
    out = p.copy()
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        (p >= 0.5).astype(np.uint8), connectivity=8
    )
    if count > 1:
        mean = np.bincount(labels.reshape(-1), p.reshape(-1), count) / np.maximum(
            stats[:, cv2.CC_STAT_AREA], 1
        )
        if seed is None:
            seed = np.zeros((h, w), bool)
            seed[: max(1, round(top_band * h))] = True
        reaches_top = np.zeros(count, bool)
        reaches_top[np.unique(labels[seed])] = True
        keep = (stats[:, cv2.CC_STAT_AREA] >= min_area * h * w) & (
            reaches_top | (mean >= confident)
        )
        keep[0] = True
        drop = ~keep[labels]
        out[drop] = np.minimum(p[drop], 0.49) * 0.5
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        (out < 0.5).astype(np.uint8), connectivity=4
    )
    if count > 1:
        x, y, bw, bh, area = (stats[:, i] for i in range(5))
        hole = (area < max_hole_area * h * w) & (x > 0) & (y > 0) & (x + bw < w) & (y + bh < h)
        hole[0] = False
        fill = hole[labels]
        out[fill] = np.maximum(out[fill], 0.51)
    return out


class _OnnxModel:
    def __init__(self, path: Path):
        self.session = onnx_session(
            path,
            "classifier model",
            compute_threads(min(2, os.cpu_count() or 1)),
            spinning=False,
        )
        meta = self.session.get_modelmeta().custom_metadata_map
        names = tuple(json.loads(meta.get("feature_names", "[]")))
        if names != FEATURE_NAMES:
            raise ModelFileError(
                "the classifier model was trained on other features than this skyseg computes; "
                "re-run scripts/train_classifier.py",
                path,
            )
        self.working_size = int(meta.get("working_size", 256))
        self.input = self.session.get_inputs()[0].name
        outputs = [o.name for o in self.session.get_outputs()]
        self.output = "probabilities" if "probabilities" in outputs else outputs[-1]

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        flat = features.reshape(-1, features.shape[-1])
        (proba,) = self.session.run([self.output], {self.input: flat})
        return np.asarray(proba, np.float32)[:, 1].reshape(features.shape[:2])


def sky_seed(image: np.ndarray, top_band: float = 0.05, zenith: float = 0.35) -> np.ndarray:
    """Where :func:`connected_sky` expects the main sky: the top band of an ordinary photo, the
    central disc (``zenith`` of half the side) of an upward fisheye frame."""
    h, w = image.shape[:2]
    if fisheye_outside(image) is not None:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        return np.hypot((yy - (h - 1) / 2) / (h / 2), (xx - (w - 1) / 2) / (w / 2)) < zenith
    seed = np.zeros((h, w), bool)
    seed[: max(1, round(top_band * h))] = True
    return seed


@register
class ClassifierMethod(SkyMethod):
    """Per-pixel gradient-boosted trees on transferable colour, texture and horizon features,
    then a connectivity clean-up (see the module docstring).

    Parameters
    ----------
    model_path : path, optional
        An ONNX model to use instead of the bundled one (else ``$SKYSEG_CLASSIFIER_MODEL``,
        else ``assets/models/classifier.onnx``).
    working_size : int, optional
        Longer side at which features are computed; defaults to the size recorded in the model.
    clean_up : bool
        Apply :func:`connected_sky` to the model's probability (default); ``False`` returns the
        model's per-pixel probability as is.
    """

    name = "classifier"
    description = (
        "gradient-boosted per-pixel sky classifier on colour, texture and horizon features (ONNX)"
    )
    working_size = 256

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        working_size: int | None = None,
        clean_up: bool = True,
    ):
        path = checked_model_file(MODEL_NAME, explicit=model_path, env_var=MODEL_ENV)
        self._model = _OnnxModel(path)
        self.working_size = working_size or self._model.working_size
        self.clean_up = clean_up

    @classmethod
    def available(cls) -> bool:
        return is_model_available(MODEL_NAME, env_var=MODEL_ENV)

    def predict(self, image: np.ndarray) -> np.ndarray:
        probability = self._model.predict_proba(sky_features(image))
        return connected_sky(probability, sky_seed(image)) if self.clean_up else probability
