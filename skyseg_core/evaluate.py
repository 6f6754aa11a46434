"""Evaluation of sky mattes against labelled masks.

Metric functions are plain functions over arrays; :func:`image_metrics` bundles them for one
image, :func:`summarize` pools a list of those per dataset and overall, and
:func:`evaluate_predictions` does both for a list of ``(pred, truth, matte)`` triples (what a
training loop needs for its validation each epoch). :func:`evaluate_dataset` runs a method over
the shared data layout (see :mod:`skyseg_core.datasets`).

Truth masks are uint8 with 255 = sky, 0 = not sky and 128 = ignore (:data:`IGNORE_LABEL`);
boolean masks (True = sky, nothing ignored) are accepted too. A mask file whose values besides
128 are only 0 and 1 is read as 1 = sky (:func:`load_truth`). Predictions are mattes (float32
(H, W) in [0, 1]) at the truth's size, binarised at ``threshold`` (sky where ``pred >= threshold``).

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
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .datasets import IGNORE_LABEL, Sample
from .errors import InputError, OutputError, SkysegError
from .matte import check_matte

DEFAULT_THRESHOLD = 0.5
DEFAULT_TOLERANCE = 3
"""Boundary F-score tolerance in pixels at the truth's resolution (the shared data is <= 640 px)."""
TIGHT_TOLERANCE = 1
"""The tight boundary F-score's tolerance: a matte edge one pixel off still counts, two do not
(what a gap between leaves or a branch needs)."""
HISTOGRAM_BINS = 1000
"""Bins of the matte histograms behind the confidence figures."""


# --------------------------------------------------------------------------------------------
# Metric functions over arrays


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


def _binary(pred: np.ndarray, shape: tuple[int, int], threshold: float) -> np.ndarray:
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
    hit = _binary(pred, sky.shape, threshold)
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
    hit = _binary(pred, sky.shape, threshold)
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


# --------------------------------------------------------------------------------------------
# Per image and pooled


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


# --------------------------------------------------------------------------------------------
# Over a dataset folder


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
    from .io import load_image, load_matte

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

    from .io import load_image

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


__all__ = [
    "DEFAULT_THRESHOLD",
    "DEFAULT_TOLERANCE",
    "ImageMetrics",
    "Summary",
    "boundary",
    "boundary_counts",
    "boundary_f_score",
    "check_settings",
    "confusion",
    "evaluate_dataset",
    "evaluate_predictions",
    "false_positive_rate",
    "image_metrics",
    "iou",
    "load_truth",
    "matte_mae",
    "summarize",
    "summarize_group",
    "truth_labels",
    "WorstKeeper",
    "overlay",
    "summary_table",
    "plan_report",
    "report_files",
    "write_report",
]


# --------------------------------------------------------------------------------------------
# Report


def image_score(record: ImageMetrics) -> float:
    """One number per image for ranking: IoU with sky, ``1 - fp_rate`` without."""
    return record.iou if record.has_sky else 1.0 - record.fp_rate


def overlay(
    image: np.ndarray, truth: np.ndarray, pred: np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> np.ndarray:
    """uint8 RGB picture for a person: the photo, the predicted sky tinted magenta, the truth's
    sky boundary in yellow and ignored pixels hatched grey."""
    from .matte import to_uint8_rgb

    out = to_uint8_rgb(image).astype(np.float32)
    sky, valid = truth_labels(truth)
    hit = _binary(pred, sky.shape, threshold)
    tint = np.array([255, 0, 255], np.float32)
    out[hit] = 0.55 * out[hit] + 0.45 * tint
    ignored = ~valid
    yy, xx = np.mgrid[0 : ignored.shape[0], 0 : ignored.shape[1]]
    hatch = ignored & ((yy + xx) % 6 < 2)
    out[hatch] = 128
    edge = boundary(sky, valid)
    edge = cv2.dilate(edge.astype(np.uint8), np.ones((2, 2), np.uint8)) > 0
    out[edge] = (255, 230, 0)
    return out.astype(np.uint8)


def _format(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def summary_table(summaries: dict[str, Summary]) -> str:
    """The summaries as a Markdown table."""
    lines = [
        "| dataset | images (sky / none) | micro IoU | mean IoU | FP rate (sky-free) | matte MAE | boundary F "
        f"| boundary F ({TIGHT_TOLERANCE} px) | sky-free p99 | sky median |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in summaries.items():
        label = f"**{name}**" if name == OVERALL else name
        lines.append(
            f"| {label} | {s.images} ({s.images_with_sky} / {s.images_without_sky}) | {_format(s.micro_iou)} | "
            f"{_format(s.mean_iou)} | {_format(s.fp_rate, 4)} | {_format(s.matte_mae, 4)} | {_format(s.boundary_f)} "
            f"| {_format(s.boundary_f_tight)} | {_format(s.skyfree_p99)} | {_format(s.sky_median)} |"
        )
    return "\n".join(lines)


REPORT_WORST = 10
"""How many of the worst images a report shows."""
DETAIL_REGIONS = 12
"""How many edge regions the report's detail sheet shows, at 100 %."""
DETAIL_WINDOW = 96
"""Side of a detail-sheet region in the photo's own pixels."""
DETAIL_SHEET = "detail_sheet.png"


def report_files(worst: int = REPORT_WORST) -> tuple[str, ...]:
    """Every file name :func:`write_report` may write into its folder."""
    return (
        "report.md",
        "iou_histogram.png",
        DETAIL_SHEET,
        *(_worst_name(rank) for rank in range(1, worst + 1)),
    )


def _worst_name(rank: int) -> str:
    return f"worst_{rank:02d}.jpg"


def plan_report(
    folder, worst: int = REPORT_WORST, overwrite: bool = False, reads: Sequence = ()
) -> dict[str, Path]:
    """Check, before any work, that a report may be written into ``folder``.

    Every file the report may write (:func:`report_files`) is planned as an output
    (:func:`skyseg_core.outputs.plan_one`): none may be a file the run reads (``reads``: the
    images and masks), and none may exist unless ``overwrite``. Returns them by name; raises
    :class:`OutputError` naming the first that must not be written.
    """
    from .outputs import Job, plan_one

    folder = Path(folder)
    job = plan_one(Job(None, {name: folder / name for name in report_files(worst)}, tuple(reads)))
    if not overwrite:
        for path in job.outputs.values():
            if os.path.lexists(path):
                raise OutputError(
                    "already exists and a report would write it (use --overwrite to replace it)",
                    path,
                )
    return job.outputs


def write_report(
    folder,
    summaries: dict[str, Summary],
    records: Sequence[ImageMetrics],
    worst: Sequence[tuple[ImageMetrics, np.ndarray]] = (),
    title: str = "skyseg evaluation",
    settings: dict | None = None,
    overwrite: bool = False,
    details: Sequence[EdgeRegion] = (),
) -> Path:
    """Write ``report.md`` with an IoU histogram and the worst cases as overlay pictures.

    ``worst`` holds (metrics, overlay picture) pairs, worst first; ``details`` the worst edge
    regions (:class:`EdgeKeeper`), drawn at 100 % into :data:`DETAIL_SHEET`. Needs matplotlib (extra ``eval``).
    The files (:func:`report_files`) are written all together or not at all, and an existing
    one is replaced only with ``overwrite``. Returns the path of the Markdown file.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the install
        raise InputError("the report needs matplotlib: pip install 'skyseg[eval]'") from None
    from .io import all_or_nothing, save_image, write_bytes_atomic

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"# {title}", ""]
    histogram: bytes | None = None  # what is written, once all of it is made
    pictures: dict[str, np.ndarray] = {}
    if settings:
        lines += [", ".join(f"{k}: `{v}`" for k, v in settings.items()), ""]
    lines += [summary_table(summaries), ""]

    ious = [r.iou for r in records if r.has_sky and not math.isnan(r.iou)]
    if ious:
        fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
        ax.hist(ious, bins=np.linspace(0, 1, 21), color="#4477aa", edgecolor="white")
        ax.set_xlabel("per-image IoU (images with sky)")
        ax.set_ylabel("images")
        ax.set_xlim(0, 1)
        fig.tight_layout()
        histogram = _io_bytes(fig)
        plt.close(fig)
        lines += ["## Per-image IoU", "", "![per-image IoU histogram](iou_histogram.png)", ""]

    if worst:
        lines += [
            "## Worst images",
            "",
            "Magenta tint: predicted sky. Yellow line: the truth's sky boundary. Grey hatching: ignored.",
            "",
            "| # | dataset | id | IoU | FP rate | boundary F | picture |",
            "|---|---|---|---|---|---|---|",
        ]
        for rank, (record, picture) in enumerate(worst, 1):
            name = _worst_name(rank)
            pictures[name] = picture
            lines.append(
                f"| {rank} | {record.dataset} | {record.id} | {_format(record.iou)} | "
                f"{_format(record.fp_rate, 4)} | {_format(record.boundary_f)} | ![{record.id}]({name}) |"
            )
        lines.append("")
    sheet = detail_sheet(details) if details else None
    if sheet is not None:
        lines += [
            "## Edge detail at 100 %",
            "",
            "The worst edge regions (mean matte error near the true or predicted sky boundary, "
            f"{DETAIL_WINDOW} x {DETAIL_WINDOW} photo pixels): photo, matte (white = sky), and "
            "the photo composited over a magenta sky with the matte. Rows, top to bottom:",
            "",
            "| row | dataset | id | region (x, y) | mean error |",
            "|---|---|---|---|---|",
            *(
                f"| {row} | {d.dataset} | {d.id} | {d.x}, {d.y} | {d.error:.3f} |"
                for row, d in enumerate(details, 1)
            ),
            "",
            f"![edge detail]({DETAIL_SHEET})",
            "",
        ]
    text = "\n".join(lines)
    target = folder / "report.md"
    with all_or_nothing():
        if sheet is not None:
            save_image(folder / DETAIL_SHEET, sheet, overwrite=overwrite)
        if histogram is not None:
            path = folder / "iou_histogram.png"
            write_bytes_atomic(path, lambda f: f.write(histogram), overwrite=overwrite)
        for name, picture in pictures.items():
            save_image(folder / name, picture, overwrite=overwrite, quality=88)
        write_bytes_atomic(target, lambda f: f.write(text.encode()), overwrite=overwrite)
    return target


def _io_bytes(fig) -> bytes:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


@dataclass
class EdgeRegion:
    """One region of a detail sheet: where it is, how wrong, and its three pictures."""

    dataset: str
    id: str
    x: int
    y: int
    error: float
    photo: np.ndarray
    matte: np.ndarray
    composite: np.ndarray


MAGENTA = np.array([255, 0, 255], np.float32)


def worst_edge_region(
    pred: np.ndarray, truth: np.ndarray, matte: np.ndarray | None, window: int = DETAIL_WINDOW
) -> tuple[float, int, int, int] | None:
    """(mean error, x, y, side) of the ``window``-sided square with the largest mean matte error
    near the true or predicted sky boundary; None when neither has a boundary."""
    sky, valid = truth_labels(truth)
    edges = boundary(sky, valid) | boundary(pred >= DEFAULT_THRESHOLD, valid)
    if not edges.any():
        return None
    target = sky.astype(np.float32) if matte is None else matte.astype(np.float32)
    near = cv2.dilate(edges.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    error = np.abs(pred.astype(np.float32) - target) * (near & valid)
    h, w = error.shape
    side = max(1, min(window, h, w))
    mean = cv2.boxFilter(error, -1, (side, side), borderType=cv2.BORDER_CONSTANT)
    # only windows wholly inside the photo: their centres lie side // 2 from every border
    half = side // 2
    inside = mean[half : h - (side - 1 - half), half : w - (side - 1 - half)]
    y, x = np.unravel_index(int(np.argmax(inside)), inside.shape)
    return float(inside[y, x]), int(x), int(y), side


class EdgeKeeper:
    """Keeps the ``n`` worst edge regions (:func:`worst_edge_region`) of all images seen."""

    def __init__(self, n: int = DETAIL_REGIONS, window: int = DETAIL_WINDOW):
        self.n, self.window = n, window
        self.regions: list[EdgeRegion] = []

    def __call__(
        self, sample: Sample, image: np.ndarray, pred: np.ndarray, record: ImageMetrics
    ) -> None:
        from .matte import to_uint8_rgb

        truth, matte = load_truth(sample)
        found = worst_edge_region(pred, truth, matte, self.window)
        if found is None:
            return
        error, x, y, side = found
        if len(self.regions) >= self.n and error <= self.regions[-1].error:
            return
        photo = to_uint8_rgb(image[y : y + side, x : x + side])
        alpha = pred[y : y + side, x : x + side, None].astype(np.float32)
        composite = alpha * MAGENTA + (1 - alpha) * photo.astype(np.float32)
        grey = np.repeat(np.round(alpha * 255).astype(np.uint8), 3, axis=2)
        self.regions.append(
            EdgeRegion(
                sample.dataset,
                sample.id,
                x,
                y,
                error,
                photo,
                grey,
                composite.round().astype(np.uint8),
            )
        )
        self.regions.sort(key=lambda region: -region.error)
        del self.regions[self.n :]


def detail_sheet(regions: Sequence[EdgeRegion], gap: int = 4) -> np.ndarray:
    """One picture: a row per region (photo, matte, composite), each at 100 %, on white."""
    side = max(max(r.photo.shape[:2]) for r in regions)
    sheet = np.full((len(regions) * (side + gap) + gap, 3 * (side + gap) + gap, 3), 255, np.uint8)
    for row, region in enumerate(regions):
        for column, picture in enumerate((region.photo, region.matte, region.composite)):
            y, x = gap + row * (side + gap), gap + column * (side + gap)
            sheet[y : y + picture.shape[0], x : x + picture.shape[1]] = picture
    return sheet


class WorstKeeper:
    """Keeps the ``n`` worst images (by :func:`image_score`) as small overlay pictures."""

    def __init__(self, n: int = 10, long_side: int = 480, threshold: float = DEFAULT_THRESHOLD):
        self.n, self.long_side, self.threshold = n, long_side, threshold
        self._items: list[tuple[float, ImageMetrics, np.ndarray]] = []

    def __call__(
        self, sample: Sample, image: np.ndarray, pred: np.ndarray, record: ImageMetrics
    ) -> None:
        score = image_score(record)
        if math.isnan(score):
            return
        if len(self._items) >= self.n and score >= self._items[-1][0]:
            return
        truth, _ = load_truth(sample)
        picture = overlay(image, truth, pred, self.threshold)
        h, w = picture.shape[:2]
        scale = self.long_side / max(h, w)
        if scale < 1:
            picture = cv2.resize(
                picture,
                (max(1, round(w * scale)), max(1, round(h * scale))),
                interpolation=cv2.INTER_AREA,
            )
        self._items.append((score, record, picture))
        self._items.sort(key=lambda item: item[0])
        del self._items[self.n :]

    @property
    def worst(self) -> list[tuple[ImageMetrics, np.ndarray]]:
        return [(record, picture) for _, record, picture in self._items]
