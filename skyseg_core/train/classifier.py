"""Fitting the ``classifier`` method's gradient-boosted trees (scikit-learn, the ``train`` extra).

Used by ``scripts/train_classifier.py`` (the shipped ``classifier.onnx``), by
``scripts/lodo_classical.py`` (one model per left-out dataset) and by
:mod:`skyseg_core.train.prior` (out-of-fold classifier probabilities as the U-Net's prior).

Data balance, chosen by the leave-one-dataset-out figure: each photo gives as many sky as
non-sky pixels where it has both, weighted back to their true shares (:func:`image_pixels`),
and each dataset group (the SkyFinder
folders are one group: they share cameras) carries the same total weight
(:func:`balanced_weights`), so 701 correlated CamVid frames count no more than 65 fisheye shots.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..matte import to_float_rgb
from ..methods._base import resize_long_side
from ..methods.classifier import FEATURE_NAMES, sky_features

DATASET_GROUPS = ("ade20k", "camvid", "fisheye", "skyfinder", "stanford")
"""Dataset-name prefixes that form one group each (any other dataset is its own group)."""

HYPERPARAMETERS = {"max_iter": 200, "max_leaf_nodes": 31, "learning_rate": 0.1}
"""The shipped classifier's settings (``scripts/train_classifier.py`` defaults)."""


def group_of_dataset(name: str) -> str:
    """The balance group of a dataset folder: its prefix in :data:`DATASET_GROUPS`, else itself."""
    return next((g for g in DATASET_GROUPS if name.startswith(g)), name)


def image_pixels(dataset: str, image, target, valid, working_size: int, per_image: int, rng):
    """Features, labels and weights of up to ``per_image`` pixels of one photo.

    ``image`` uint8 RGB, ``target`` uint8 0..255 (sky >= 128), ``valid`` 0/1 (0 = ignore); the
    photo is shrunk to ``working_size`` as the method does. Half the pixels are drawn from the
    sky and half from the rest where the photo has both (a photo without sky gives non-sky
    pixels only); the weights undo that stratification (each class weighs its true share of
    the photo's valid pixels, mean weight 1), so the rare class is well sampled without
    shifting the model's prior. Returns ``(x, y, w)`` or None if no pixel is valid.
    """
    small = resize_long_side(to_float_rgb(image), working_size)
    size = small.shape[1::-1]
    labels = cv2.resize(target, size, interpolation=cv2.INTER_NEAREST).reshape(-1) >= 128
    ok = cv2.resize(valid, size, interpolation=cv2.INTER_NEAREST).reshape(-1) > 0
    sky, ground = np.flatnonzero(ok & labels), np.flatnonzero(ok & ~labels)
    n_sky = min(sky.size, max(per_image // 2, per_image - ground.size))
    n_ground = min(ground.size, per_image - n_sky)
    n = n_sky + n_ground
    if n == 0:
        return None
    pick = np.concatenate(
        [rng.choice(sky, n_sky, replace=False), rng.choice(ground, n_ground, replace=False)]
    )
    share = sky.size / (sky.size + ground.size)
    w = np.empty(n, np.float32)
    w[:n_sky] = share * n / max(n_sky, 1)
    w[n_sky:] = (1 - share) * n / max(n_ground, 1)
    return (
        sky_features(small).reshape(-1, len(FEATURE_NAMES))[pick],
        labels[pick].astype(np.int64),
        w,
    )


def pixel_table(pairs, working_size: int, per_image: int, seed: int):
    """Features, labels and weights of pixels sampled from ``pairs`` (:func:`image_pixels` of
    each), weighted so that every dataset group carries the same total (:func:`balanced_weights`).

    ``pairs`` yields ``(dataset, image, target, valid)``. Returns float32 (N, len(FEATURE_NAMES)),
    int64 (N,) with 1 = sky, float32 (N,).
    """
    rng = np.random.default_rng(seed)
    xs, ys, ws, gs = [], [], [], []
    for dataset, image, target, valid in pairs:
        table = image_pixels(dataset, image, target, valid, working_size, per_image, rng)
        if table is not None:
            xs.append(table[0])
            ys.append(table[1])
            ws.append(table[2])
            gs.append(np.full(table[1].size, group_of_dataset(dataset)))
    groups = np.concatenate(gs)
    return (
        np.concatenate(xs),
        np.concatenate(ys),
        np.concatenate(ws) * balanced_weights(groups, np.concatenate(ws)),
    )


def balanced_weights(groups: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Factors that give every group the same total weight (the product's mean is 1).

    ``groups``: a group name per pixel; ``weights``: the pixels' weights so far (default 1).
    """
    weights = (
        np.ones(len(groups), np.float64) if weights is None else np.asarray(weights, np.float64)
    )
    names, index = np.unique(groups, return_inverse=True)
    totals = np.bincount(index, weights, len(names))
    return (weights.sum() / (len(names) * totals[index])).astype(np.float32)


def fit_classifier(x: np.ndarray, y: np.ndarray, w: np.ndarray, seed: int = 0, **params):
    """A fitted ``HistGradientBoostingClassifier`` (``params`` override :data:`HYPERPARAMETERS`);
    ``w``: per-pixel sample weights (:func:`pixel_table`'s)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(
        **{**HYPERPARAMETERS, **params},
        min_samples_leaf=200,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )
    return clf.fit(x, y, sample_weight=w)
