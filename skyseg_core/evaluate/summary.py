"""Pooled metrics of a group of images (one dataset, or all), and the helper a training loop
calls for its validation (:func:`evaluate_predictions`). The definitions are in
:mod:`.metrics`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .metrics import (
    DEFAULT_THRESHOLD,
    DEFAULT_TOLERANCE,
    HISTOGRAM_BINS,
    ImageMetrics,
    histogram_quantile,
    image_metrics,
    iou_from_counts,
)


@dataclass
class Summary:
    """Pooled metrics of a group of images (one dataset, or all)."""

    images: int
    images_with_sky: int
    images_without_sky: int
    micro_iou: float
    mean_iou: float
    fp_rate: float
    fp_rate_mean: float
    matte_mae: float
    mattes: int
    boundary_f: float
    boundary_f_tight: float = math.nan
    skyfree_p99: float = math.nan
    sky_median: float = math.nan

    def as_dict(self) -> dict:
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(self).items()
        }


def _nanmean(values: Sequence[float]) -> float:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(values)) if values else math.nan


def summarize_group(records: Sequence[ImageMetrics]) -> Summary:
    """Pool the metrics of ``records`` (see the module docstring for each definition)."""
    tp = sum(r.tp for r in records)
    fp = sum(r.fp for r in records)
    fn = sum(r.fn for r in records)
    skyless = [r for r in records if not r.has_sky]
    fp_skyless = sum(r.fp for r in skyless)
    valid_skyless = sum(r.fp + r.tn for r in skyless)
    maes = [r.mae for r in records if r.mae is not None]
    return Summary(
        images=len(records),
        images_with_sky=len(records) - len(skyless),
        images_without_sky=len(skyless),
        micro_iou=iou_from_counts(tp, fp, fn),
        mean_iou=_nanmean([r.iou for r in records if r.has_sky]),
        fp_rate=fp_skyless / valid_skyless if valid_skyless else math.nan,
        fp_rate_mean=_nanmean([r.fp_rate for r in skyless]),
        matte_mae=_nanmean(maes),
        mattes=len(maes),
        boundary_f=_nanmean([r.boundary_f for r in records if r.has_boundary]),
        boundary_f_tight=_nanmean([r.boundary_f_tight for r in records if r.has_boundary]),
        skyfree_p99=histogram_quantile(_pooled_histogram(skyless), 0.99),
        sky_median=histogram_quantile(_pooled_histogram([r for r in records if r.has_sky]), 0.5),
    )


def _pooled_histogram(records: Sequence[ImageMetrics]) -> np.ndarray:
    histograms = [r.histogram for r in records if r.histogram is not None]
    return np.sum(histograms, axis=0) if histograms else np.zeros(HISTOGRAM_BINS, np.int64)


OVERALL = "overall"


def summarize(records: Sequence[ImageMetrics]) -> dict[str, Summary]:
    """Summaries per dataset (sorted by name) and ``"overall"`` (all records pooled)."""
    out: dict[str, Summary] = {}
    for name in sorted({r.dataset for r in records}):
        out[name] = summarize_group([r for r in records if r.dataset == name])
    out[OVERALL] = summarize_group(list(records))
    return out


def evaluate_predictions(
    items: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray | None]],
    *,
    datasets: Sequence[str] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    tolerance: float = DEFAULT_TOLERANCE,
) -> dict[str, Summary]:
    """Metrics of a list of ``(pred, truth, matte_or_None)`` triples, per dataset and overall.

    This is the helper a training loop calls for its validation: predictions are mattes (float32
    (H, W) in [0, 1]) at the truth's size, truths uint8 0/128/255 or bool masks.

    Parameters
    ----------
    items : iterable of (pred, truth, matte or None)
    datasets : sequence of str, optional
        Dataset name of each item, for per-dataset summaries; all ``""`` when omitted.

    Returns
    -------
    dict
        ``{dataset: Summary, ..., "overall": Summary}``; ``summary.micro_iou`` etc.,
        ``summary.as_dict()`` for JSON.
    """
    records = []
    for index, (pred, truth, matte) in enumerate(items):
        name = datasets[index] if datasets is not None else ""
        records.append(
            image_metrics(
                pred,
                truth,
                matte,
                dataset=name,
                id=str(index),
                threshold=threshold,
                tolerance=tolerance,
            )
        )
    return summarize(records)
