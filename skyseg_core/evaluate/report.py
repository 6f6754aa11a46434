"""The evaluation report: the summaries as a Markdown table, and a folder with ``report.md``, an
IoU histogram and the pictures (:mod:`.pictures`), planned before any work and written all
together or not at all."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError, OutputError
from ..io import all_or_nothing, save_image, write_bytes_atomic
from ..outputs import Job, plan_one
from .metrics import TIGHT_TOLERANCE, ImageMetrics
from .pictures import DETAIL_WINDOW, EdgeRegion, detail_sheet
from .summary import OVERALL, Summary


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
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
