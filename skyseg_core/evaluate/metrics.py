"""Metrics of one sky matte against its labelled truth mask: plain functions over arrays.

Truth masks are uint8 with 255 = sky, 0 = not sky and 128 = ignore (:data:`IGNORE_LABEL`);
boolean masks (True = sky, nothing ignored) are accepted too. Predictions are mattes (float32
(H, W) in [0, 1]) at the truth's size, binarised at ``threshold`` (sky where ``pred >= threshold``).
:func:`image_metrics` bundles them for one image; :mod:`.summary` pools them.

Definitions
-----------
micro IoU
    Sky intersection over union with the pixels of all images pooled (ignored pixels excluded).
mean per-image IoU
    The mean of per-image IoU over images whose truth contains sky. Sky-free images have no
    meaningful IoU; they are measured by the false-positive rate instead.
false-positive rate
    On images whose truth has no sky: the share of (non-ignored) pixels predicted sky, pooled
    over those images (``fp_rate``) and averaged per image (``fp_rate_mean``).
matte MAE
    Mean absolute difference between the predicted matte and a soft truth matte, where one exists.
confidence
    How decided the matte is, from its values pooled over pixels: ``skyfree_p99``, the 99th
    percentile of the matte over the (non-ignored) pixels of sky-free images (near 0 for a
    method that does not half-see sky in a room), and ``sky_median``, the median of the matte
    over true-sky pixels (near 1 for a method that does not hedge). Both are read off pooled
    histograms of :data:`HISTOGRAM_BINS` bins, so they are exact to 1 / bins.
boundary F-score
    F1 of the sky boundary pixels of prediction and truth, each matched when the other's boundary
    lies within ``tolerance`` pixels (after Martin et al. 2004 / DAVIS); averaged over images where
    either has a boundary. The image frame is not a boundary, and boundary pixels within
    ``tolerance`` of an ignored pixel are not counted (void bands along edges are common).
    ``boundary_f_tight`` is the same at :data:`TIGHT_TOLERANCE`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..datasets import IGNORE_LABEL
from ..errors import InputError
from ..matte import check_matte

DEFAULT_THRESHOLD = 0.5
DEFAULT_TOLERANCE = 3
"""Boundary F-score tolerance in pixels at the truth's resolution (the shared data is <= 640 px)."""
TIGHT_TOLERANCE = 1
"""The tight boundary F-score's tolerance: a matte edge one pixel off still counts, two do not
(what a gap between leaves or a branch needs)."""
HISTOGRAM_BINS = 1000
"""Bins of the matte histograms behind the confidence figures."""


def check_settings(threshold: float, tolerance: float) -> None:
    """Raise :class:`InputError` unless ``threshold`` is a number in [0, 1] and ``tolerance`` a
    finite number of pixels >= 0 (NaN would score every image as sky-free and end up in JSON)."""
    if not 0.0 <= float(threshold) <= 1.0:  # NaN fails this too
        raise InputError(f"the threshold must be a number from 0 to 1, got {threshold!r}")
    if not 0.0 <= float(tolerance) < math.inf:
        raise InputError(
            f"the boundary tolerance must be a finite number of pixels >= 0, got {tolerance!r}"
        )


def truth_labels(truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split a truth mask into (sky, valid) boolean arrays.

    ``truth`` is uint8 (255 sky, 0 not sky, 128 ignore; values above 128 count as sky) or bool.
    """
    truth = np.asarray(truth)
    if truth.ndim != 2:
        raise InputError(f"expected a 2-D truth mask, got shape {truth.shape}")
    if truth.dtype == np.bool_:
        return truth, np.ones(truth.shape, bool)
    if truth.dtype != np.uint8:
        raise InputError(
            f"expected a uint8 (0/128/255) or bool truth mask, got dtype {truth.dtype}"
        )
    return truth > IGNORE_LABEL, truth != IGNORE_LABEL


def predicted_sky(pred: np.ndarray, shape: tuple[int, int], threshold: float) -> np.ndarray:
    """Where the matte ``pred`` (checked to have ``shape``) says sky: ``pred >= threshold``."""
    check_matte(pred, shape)
    return pred >= np.float32(threshold)


def confusion(
    pred: np.ndarray, truth: np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> tuple[int, int, int, int]:
    """Pixel counts ``(tp, fp, fn, tn)`` of sky, ignored truth pixels excluded.

    Parameters
    ----------
    pred : ndarray, shape (H, W), float32 in [0, 1]
        Predicted matte.
    truth : ndarray, shape (H, W), uint8 (0/128/255) or bool
        Truth mask.
    threshold : float
        A pixel is predicted sky where ``pred >= threshold``.
    """
    sky, valid = truth_labels(truth)
    hit = predicted_sky(pred, sky.shape, threshold)
    tp = int(np.count_nonzero(hit & sky & valid))
    fp = int(np.count_nonzero(hit & ~sky & valid))
    fn = int(np.count_nonzero(~hit & sky & valid))
    tn = int(np.count_nonzero(valid)) - tp - fp - fn
    return tp, fp, fn, tn


def matte_histogram(values: np.ndarray, bins: int = HISTOGRAM_BINS) -> np.ndarray:
    """Counts of matte values in ``bins`` equal bins over [0, 1] (int64)."""
    index = np.minimum((np.asarray(values, np.float32) * bins).astype(np.int64), bins - 1)
    return np.bincount(index.ravel(), minlength=bins)


def histogram_quantile(histogram: np.ndarray, q: float) -> float:
    """The ``q`` quantile (0..1) of the values a :func:`matte_histogram` counts (bin centre)."""
    total = int(histogram.sum())
    if total == 0:
        return math.nan
    index = int(np.searchsorted(np.cumsum(histogram), q * total, side="left"))
    return (min(index, histogram.size - 1) + 0.5) / histogram.size


def iou_from_counts(tp: int, fp: int, fn: int) -> float:
    """``tp / (tp + fp + fn)``; NaN when the union is empty."""
    union = tp + fp + fn
    return tp / union if union else math.nan


def iou(pred: np.ndarray, truth: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> float:
    """Sky IoU of one image (NaN when neither truth nor prediction has sky)."""
    tp, fp, fn, _ = confusion(pred, truth, threshold)
    return iou_from_counts(tp, fp, fn)


def false_positive_rate(
    pred: np.ndarray, truth: np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> float:
    """Share of the non-sky (non-ignored) truth pixels predicted sky; NaN if there are none."""
    tp, fp, fn, tn = confusion(pred, truth, threshold)
    return fp / (fp + tn) if fp + tn else math.nan


def matte_mae(pred: np.ndarray, matte: np.ndarray, valid: np.ndarray | None = None) -> float:
    """Mean absolute error between a predicted matte and a soft truth matte (both float in [0, 1]).

    ``valid`` (bool, optional) restricts the mean to those pixels; NaN when none are valid.
    """
    check_matte(pred)
    matte = np.asarray(matte, dtype=np.float32)
    if matte.shape != pred.shape:
        raise InputError(f"truth matte has shape {matte.shape}, prediction {pred.shape}")
    error = np.abs(pred - matte)
    if valid is not None:
        error = error[valid]
    return float(error.mean(dtype=np.float64)) if error.size else math.nan


def boundary(mask: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Boundary pixels of a boolean mask: pixels whose 4-neighbourhood holds both labels.

    Both sides of the edge are marked. Pixels next to an invalid pixel are not boundaries,
    and the image frame is not a boundary.
    """
    m = mask.astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    grown = cv2.dilate(m, kernel, borderType=cv2.BORDER_REPLICATE)
    shrunk = cv2.erode(m, kernel, borderType=cv2.BORDER_REPLICATE)
    edge = grown != shrunk
    if valid is not None and not valid.all():
        edge &= cv2.erode(valid.astype(np.uint8), kernel, borderType=cv2.BORDER_REPLICATE) > 0
    return edge


def _within(edge: np.ndarray, other: np.ndarray, tolerance: float) -> int:
    """How many ``edge`` pixels lie within ``tolerance`` px (Euclidean) of an ``other`` pixel."""
    if not edge.any() or not other.any():
        return 0
    distance = cv2.distanceTransform((~other).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return int(np.count_nonzero(distance[edge] <= tolerance))


def boundary_counts(
    pred: np.ndarray,
    truth: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
    tolerance: float = DEFAULT_TOLERANCE,
) -> tuple[int, int, int, int]:
    """``(pred_matched, pred_total, truth_matched, truth_total)`` boundary pixel counts."""
    sky, valid = truth_labels(truth)
    hit = predicted_sky(pred, sky.shape, threshold)
    pred_edge = boundary(hit, valid)
    truth_edge = boundary(sky, valid)
    if not valid.all():  # edges within the tolerance of ignored pixels cannot be judged
        judged = (
            cv2.distanceTransform(valid.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
            > tolerance
        )
        pred_edge &= judged
        truth_edge &= judged
    return (
        _within(pred_edge, truth_edge, tolerance),
        int(np.count_nonzero(pred_edge)),
        _within(truth_edge, pred_edge, tolerance),
        int(np.count_nonzero(truth_edge)),
    )


def f_score_from_counts(
    pred_matched: int, pred_total: int, truth_matched: int, truth_total: int
) -> float:
    """Boundary F1 from :func:`boundary_counts`; 1 when neither has a boundary, 0 when one lacks it."""
    if pred_total == 0 and truth_total == 0:
        return 1.0
    if pred_total == 0 or truth_total == 0:
        return 0.0
    precision, recall = pred_matched / pred_total, truth_matched / truth_total
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def boundary_f_score(
    pred: np.ndarray,
    truth: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
    tolerance: float = DEFAULT_TOLERANCE,
) -> float:
    """Boundary F1 of one image (see the module docstring)."""
    return f_score_from_counts(*boundary_counts(pred, truth, threshold, tolerance))


@dataclass
class ImageMetrics:
    """Everything measured on one image; counts are kept so summaries pool exactly."""

    dataset: str = ""
    id: str = ""
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    has_sky: bool = False
    iou: float = math.nan
    fp_rate: float = math.nan
    mae: float | None = None
    boundary_f: float = math.nan
    boundary_f_tight: float = math.nan
    has_boundary: bool = False
    histogram: np.ndarray | None = None
    """:func:`matte_histogram` over true-sky pixels (images with sky) or all valid pixels (sky-free)."""
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_counts(cls, tp: int, fp: int, fn: int, tn: int, **fields) -> ImageMetrics:
        """The metrics of one image from its pixel counts: the IoU when it has sky, the
        false-positive rate when it has none (the other is NaN); ``fields`` fill the rest."""
        has_sky = tp + fn > 0
        return cls(
            tp=tp,
            fp=fp,
            fn=fn,
            tn=tn,
            has_sky=has_sky,
            iou=iou_from_counts(tp, fp, fn) if has_sky else math.nan,
            fp_rate=(fp / (fp + tn) if fp + tn else 0.0) if not has_sky else math.nan,
            **fields,
        )


def image_metrics(
    pred: np.ndarray,
    truth: np.ndarray,
    matte: np.ndarray | None = None,
    *,
    dataset: str = "",
    id: str = "",
    threshold: float = DEFAULT_THRESHOLD,
    tolerance: float = DEFAULT_TOLERANCE,
) -> ImageMetrics:
    """All metrics of one prediction.

    Parameters
    ----------
    pred : ndarray, shape (H, W), float32 in [0, 1]
        Predicted matte at the truth's size.
    truth : ndarray, shape (H, W), uint8 (0/128/255) or bool
        Truth mask.
    matte : ndarray, shape (H, W), float in [0, 1], optional
        Soft truth matte, for the matte MAE (ignored pixels of ``truth`` excluded).
    """
    check_settings(threshold, tolerance)
    sky, valid = truth_labels(truth)
    tp, fp, fn, tn = confusion(pred, truth, threshold)
    has_sky = tp + fn > 0
    pred_values = np.asarray(pred).reshape(sky.shape)
    counts = boundary_counts(pred, truth, threshold, tolerance)
    return ImageMetrics.from_counts(
        tp,
        fp,
        fn,
        tn,
        dataset=dataset,
        id=id,
        mae=None if matte is None else matte_mae(pred, matte, valid),
        boundary_f=f_score_from_counts(*counts),
        boundary_f_tight=f_score_from_counts(
            *boundary_counts(pred, truth, threshold, min(tolerance, TIGHT_TOLERANCE))
        ),
        has_boundary=counts[1] + counts[3] > 0,
        histogram=matte_histogram(pred_values[sky & valid] if has_sky else pred_values[valid]),
    )
