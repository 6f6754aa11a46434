"""Fitting the ``classifier`` method's gradient-boosted trees (scikit-learn, the ``train`` extra).

Used by ``scripts/train_classifier.py`` (the shipped ``classifier.onnx``) and by
:mod:`skyseg_core.train.prior` (out-of-fold classifier probabilities as the U-Net's prior).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..matte import to_float_rgb
from ..methods._base import resize_long_side
from ..methods.classifier import FEATURE_NAMES, sky_features

DATASET_WEIGHTS = {"ade20k": 3.0, "camvid": 0.25}
"""Per-pixel sample weight by dataset-name prefix (others 1.0), after the data README."""

HYPERPARAMETERS = {"max_iter": 200, "max_leaf_nodes": 31, "learning_rate": 0.1}
"""The shipped classifier's settings (``scripts/train_classifier.py`` defaults)."""


def dataset_weight(name: str) -> float:
    return next((w for prefix, w in DATASET_WEIGHTS.items() if name.startswith(prefix)), 1.0)


def pixel_table(pairs, working_size: int, per_image: int, seed: int):
    """Features, labels and weights of pixels sampled from ``pairs``.

    ``pairs`` yields ``(dataset, image, target, valid)``: uint8 RGB, target uint8 0..255 (sky
    >= 128), valid 0/1 (0 = ignore). Images are shrunk to ``working_size`` as the method does.
    """
    rng = np.random.default_rng(seed)
    xs, ys, ws = [], [], []
    for dataset, image, target, valid in pairs:
        small = resize_long_side(to_float_rgb(image), working_size)
        size = small.shape[1::-1]
        labels = cv2.resize(target, size, interpolation=cv2.INTER_NEAREST).reshape(-1) >= 128
        keep = np.flatnonzero(cv2.resize(valid, size, interpolation=cv2.INTER_NEAREST).reshape(-1) > 0)
        if keep.size == 0:
            continue
        pick = rng.choice(keep, size=min(per_image, keep.size), replace=False)
        xs.append(sky_features(small).reshape(-1, len(FEATURE_NAMES))[pick])
        ys.append(labels[pick].astype(np.int64))
        ws.append(np.full(pick.size, dataset_weight(dataset), np.float32))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)


def fit_classifier(x: np.ndarray, y: np.ndarray, w: np.ndarray, seed: int = 0, **params):
    """A fitted ``HistGradientBoostingClassifier`` (``params`` override :data:`HYPERPARAMETERS`)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(
        **{**HYPERPARAMETERS, **params},
        min_samples_leaf=200,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )
    return clf.fit(x, y, sample_weight=w)
