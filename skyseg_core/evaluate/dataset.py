"""A method run over the shared data layout (see :mod:`skyseg_core.datasets`), each image
measured: the truth read from its files, the prediction made, the metrics kept."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..datasets import IGNORE_LABEL, Sample
from ..errors import InputError, SkysegError
from ..io import load_image, load_matte
from .metrics import (
    DEFAULT_THRESHOLD,
    DEFAULT_TOLERANCE,
    ImageMetrics,
    check_settings,
    image_metrics,
)


def load_truth(sample: Sample, canopy: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """A sample's truth mask (uint8 0/128/255) and soft matte (float32, or None).

    With ``canopy`` (the default), pixels of the sample's canopy map that the mask calls
    not-sky are ignored: a region-level label that calls a whole tree canopy not-sky says
    nothing about the sky seen between its leaves (see :mod:`skyseg_core.datasets`).

    A mask file is 0/128/255 unless its values besides 128 are only 0 and 1: then it is a 0/1
    mask (1 = sky, as many datasets store them; 128 still ignored) and is returned as
    0/128/255. A 0/255 mask holds a 255 unless it has no sky, and a mask without sky reads the
    same either way.
    """
    mask = load_image(sample.mask)[..., 0]
    if mask.dtype != np.uint8:
        raise InputError("expected an 8-bit truth mask", sample.mask)
    if np.max(mask, where=mask != IGNORE_LABEL, initial=0) == 1:
        mask = np.where(mask == 1, np.uint8(255), mask)
    if canopy and sample.canopy is not None:
        trees = load_image(sample.canopy)[..., 0]
        if trees.shape != mask.shape:
            raise InputError(
                f"canopy map is {trees.shape[1]}x{trees.shape[0]}, the mask "
                f"{mask.shape[1]}x{mask.shape[0]}; they must match",
                sample.canopy,
            )
        mask = np.where((trees > 127) & (mask == 0), np.uint8(IGNORE_LABEL), mask)
    matte = load_matte(sample.matte) if sample.matte is not None else None
    return mask, matte


def evaluate_dataset(
    samples: Sequence[Sample],
    predict: Callable[[np.ndarray], np.ndarray],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    tolerance: float = DEFAULT_TOLERANCE,
    progress: bool = False,
    keep: Callable[[Sample, np.ndarray, np.ndarray, ImageMetrics], None] | None = None,
    on_error: Callable[[Sample, SkysegError], None] | None = None,
    canopy: bool = True,
) -> list[ImageMetrics]:
    """Run ``predict(image) -> matte`` over ``samples`` and measure each.

    ``keep`` is called with (sample, image, pred, metrics) after each image, for reports that need
    the pictures (the worst cases) without holding them all in memory. A sample that fails with
    a :class:`SkysegError` (unreadable image, a mask or matte of another size than its image)
    raises, unless ``on_error`` is given: then it is called and the sample left out. ``canopy``
    is passed to :func:`load_truth` (canopy pixels labelled not-sky left out).
    """
    from tqdm import tqdm

    check_settings(threshold, tolerance)
    records = []
    for sample in tqdm(samples, desc="eval", unit="img", disable=not progress):
        try:
            image = load_image(sample.image)
            truth, matte = load_truth(sample, canopy=canopy)
            for what, path, array in (("mask", sample.mask, truth), ("matte", sample.matte, matte)):
                if array is not None and array.shape != image.shape[:2]:
                    raise InputError(
                        f"{what} is {array.shape[1]}x{array.shape[0]}, the image "
                        f"{image.shape[1]}x{image.shape[0]}; they must match",
                        path,
                    )
            pred = predict(image)
            record = image_metrics(
                pred,
                truth,
                matte,
                dataset=sample.dataset,
                id=sample.id,
                threshold=threshold,
                tolerance=tolerance,
            )
        except SkysegError as exc:
            if on_error is None:
                raise
            on_error(sample, exc)
            continue
        records.append(record)
        if keep is not None:
            keep(sample, image, pred, record)
    return records
