"""The classifier prior: the ``classifier`` method's sky probability as the U-Net's fourth input.

The U-Net with ``prior = "classifier"`` sees the photo plus the pixel classifier's probability
and learns a correction to it (auto-context, Tu & Bai 2010): the classifier brings colour,
position and texture statistics learned from every pixel, the U-Net brings the spatial
context that a per-pixel model lacks (a blue wall below a roof line, cloud holes in a sky).

A prior computed by a classifier that was fitted on the same photo is better than it will
ever be on a new photo, and a network trained on such priors learns to trust them too much.
Training photos therefore get **out-of-fold** priors: the training split is cut into folds
by correlation group (CamVid sequence, SkyFinder camera, else the image), and each fold's
priors come from a classifier fitted on the other folds. Validation photos get the shipped
classifier's priors, exactly what the ``unet`` method computes at run time.

Priors are computed from the training cache's images (the size the U-Net sees), shrunk to
the classifier's working size as the method does, and stored next to the cache as uint8.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from pathlib import Path

import cv2
import numpy as np

from ..datasets import group_of
from ..depth import to_codes
from .data import load_cached

log = logging.getLogger("skyseg.train")

PRIORS = ("classifier",)
"""Prior kinds a model config may name (``[model] prior``)."""

FOLDS = 2


def fold_of(dataset: str, sample_id: str, folds: int = FOLDS) -> int:
    """The out-of-fold group of a training sample; correlated frames share a fold."""
    return zlib.crc32(f"{dataset}/{group_of(dataset, sample_id)}".encode()) % folds


def prior_model_sha256(prior: str = "classifier") -> str:
    """SHA-256 of the model file that computes ``prior`` (recorded in checkpoints and exports;
    the ``unet`` method refuses a classifier file other than the one its model was trained with)."""
    from ..methods.classifier import MODEL_NAME
    from ..models import checked_model_file, sha256_of

    if prior not in PRIORS:
        raise ValueError(f"unknown prior {prior!r}; known: {', '.join(PRIORS)}")
    return sha256_of(checked_model_file(MODEL_NAME))


def _classifier_probability(predict, image: np.ndarray, working_size: int) -> np.ndarray:
    """Sky probability of a uint8 photo at its own size, computed as the classifier method does
    (``predict``: float RGB at the working size -> probability)."""
    from ..matte import to_float_rgb
    from ..methods._base import resize_long_side

    prob = predict(resize_long_side(to_float_rgb(image), working_size))
    return cv2.resize(prob.astype(np.float32), image.shape[1::-1], interpolation=cv2.INTER_LINEAR)


def _save(path: Path, prob: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npy")
    np.save(tmp, to_codes(prob, np.uint8))
    tmp.replace(path)


def load_prior(path: str | Path) -> np.ndarray:
    """A stored prior as uint8 (H, W), 255 = sky."""
    return np.load(path)


def build_priors(
    train_samples,
    train_paths,
    val_paths,
    cache_dir: str | Path,
    per_image: int = 800,
    seed: int = 0,
    progress: bool = True,
) -> tuple[list[Path], list[Path]]:
    """Out-of-fold priors for the training cache, shipped-classifier priors for validation.

    Returns one ``.npy`` path per cached image (train, val). Computed once; a repeated run with
    the same classifier file, training list and settings reuses them.
    """
    from tqdm import tqdm

    from ..methods.classifier import ClassifierMethod, sky_features
    from .classifier import HYPERPARAMETERS, fit_classifier, pixel_table

    shipped = ClassifierMethod()
    working_size = shipped.working_size
    key = json.dumps(
        {
            "classifier": prior_model_sha256("classifier"),
            "folds": FOLDS,
            "per_image": per_image,
            "seed": seed,
            "working_size": working_size,
            "fit": HYPERPARAMETERS,
            "train": sorted(str(p) for p in train_paths),
        },
        sort_keys=True,
    )
    root = Path(cache_dir) / f"prior-classifier-{hashlib.sha1(key.encode()).hexdigest()[:12]}"

    def prior_path(cache_path: Path) -> Path:
        return root / Path(cache_path).parent.name / (Path(cache_path).stem + ".npy")

    val_out = [prior_path(p) for p in val_paths]
    for cache_path, out in tqdm(
        list(zip(val_paths, val_out, strict=True)),
        desc="prior (val)",
        unit="img",
        disable=not progress,
    ):
        if not out.exists():
            _save(
                out,
                _classifier_probability(
                    shipped.predict, load_cached(cache_path)["image"], working_size
                ),
            )

    train_out = [prior_path(p) for p in train_paths]
    folds = np.array([fold_of(s.dataset, s.id) for s in train_samples])
    for fold in range(FOLDS):
        todo = [i for i in np.flatnonzero(folds == fold) if not train_out[i].exists()]
        if not todo:
            continue
        fit_on = np.flatnonzero(folds != fold)
        if fit_on.size == 0:
            from ..errors import InputError

            raise InputError(
                f"out-of-fold priors need training photos from at least {FOLDS} correlation groups"
            )
        pairs = ((train_samples[i].dataset, *load_cached(train_paths[i]).values()) for i in fit_on)
        x, y, w = pixel_table(pairs, working_size, per_image, seed + fold)
        log.info(
            "prior fold %d/%d: fitting the classifier on %d photos (%d pixels)",
            fold + 1,
            FOLDS,
            len(fit_on),
            len(y),
        )
        clf = fit_classifier(x, y, w, seed=seed)

        def predict(small, clf=clf):
            features = sky_features(small)
            flat = features.reshape(-1, features.shape[-1])
            return clf.predict_proba(flat)[:, 1].astype(np.float32).reshape(features.shape[:2])

        for i in tqdm(todo, desc=f"prior (fold {fold + 1})", unit="img", disable=not progress):
            _save(
                train_out[i],
                _classifier_probability(
                    predict, load_cached(train_paths[i])["image"], working_size
                ),
            )
    return train_out, val_out
