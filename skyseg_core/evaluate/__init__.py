"""Evaluation of sky mattes against labelled masks, one module a role.

:mod:`.metrics` (plain functions over arrays; :func:`image_metrics` bundles them for one image;
the definitions of every figure), :mod:`.summary` (:func:`summarize` pools a list of those per
dataset and overall; :func:`evaluate_predictions` does both for a list of ``(pred, truth,
matte)`` triples, what a training loop needs for its validation), :mod:`.dataset`
(:func:`evaluate_dataset` runs a method over the shared data layout, see
:mod:`skyseg_core.datasets`), :mod:`.pictures` (overlays, the worst images and edge regions) and
:mod:`.report` (the Markdown report and its folder). The names below are the way in.
"""

# the package's face: the modules list no __all__ of their own
from .dataset import evaluate_dataset, load_truth
from .metrics import (
    DEFAULT_THRESHOLD,
    DEFAULT_TOLERANCE,
    ImageMetrics,
    boundary,
    boundary_counts,
    boundary_f_score,
    check_settings,
    confusion,
    false_positive_rate,
    image_metrics,
    iou,
    iou_from_counts,
    matte_mae,
    truth_labels,
)
from .pictures import EdgeKeeper, WorstKeeper, overlay, worst_edge_region
from .report import (
    DETAIL_SHEET,
    REPORT_WORST,
    plan_report,
    report_files,
    summary_table,
    write_report,
)
from .summary import Summary, evaluate_predictions, summarize, summarize_group

__all__ = [
    "DEFAULT_THRESHOLD",
    "DEFAULT_TOLERANCE",
    "DETAIL_SHEET",
    "REPORT_WORST",
    "EdgeKeeper",
    "ImageMetrics",
    "Summary",
    "WorstKeeper",
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
    "iou_from_counts",
    "load_truth",
    "matte_mae",
    "overlay",
    "plan_report",
    "report_files",
    "summarize",
    "summarize_group",
    "summary_table",
    "truth_labels",
    "worst_edge_region",
    "write_report",
]
