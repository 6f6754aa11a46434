"""``skyseg eval``: measure a method on labelled data (``<dataset>/images`` + ``masks``)."""

from __future__ import annotations

import sys

from ..errors import EXIT_OK, EXIT_USAGE
from ._lines import error_line, json_line


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="measure a method on labelled data (IoU, false positives, matte MAE, boundary F)",
        description=(
            "Run a method over a data folder laid out as <dataset>/images/<id>.jpg + masks/<id>.png "
            "(255 sky, 0 not, 128 ignore; a mask whose other values are only 0 and 1 is read as "
            "1 = sky) + "
            "optional mattes/<id>.png, and report per dataset and "
            "overall: micro IoU, mean per-image IoU, false-positive rate on sky-free images, matte "
            "MAE, boundary F-score."
        ),
    )
    parser.add_argument(
        "--data", required=True, metavar="DIR", help="a dataset folder or a folder of them"
    )
    parser.add_argument(
        "--method", default="auto", metavar="NAME", help="sky method (default: auto)"
    )
    parser.add_argument(
        "--no-refine", dest="refine", action="store_false", help="evaluate the raw matte"
    )
    parser.add_argument(
        "--no-detail",
        dest="detail",
        action="store_false",
        default=None,
        help="leave out the detail stage (the product path before it)",
    )
    parser.add_argument(
        "--keep-canopy",
        action="store_true",
        help="score canopy pixels that a region-level label calls not-sky (left out by default)",
    )
    parser.add_argument(
        "--split",
        choices=("val", "train", "all"),
        default="val",
        help="which part of the fixed split (default: val)",
    )
    parser.add_argument(
        "--dataset", action="append", metavar="NAME", help="only this dataset (repeatable)"
    )
    parser.add_argument(
        "--limit", type=int, default=None, metavar="N", help="at most N images (evenly spread)"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="matte threshold for sky, 0 to 1 (default 0.5)",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=3.0,
        metavar="PX",
        help="boundary F-score tolerance in pixels (default 3)",
    )
    parser.add_argument(
        "--report", metavar="DIR", help="write report.md with plots and the worst ten here"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the files of an existing report in --report DIR (report.md, iou_histogram.png, worst_NN.jpg)",
    )
    parser.add_argument("--json", action="store_true", help="print the summaries as JSON on stdout")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _spread(items: list, limit: int | None) -> list:
    if limit is None or limit >= len(items):
        return items
    if limit <= 0:
        return []
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def run(args) -> int:
    from pathlib import Path

    from ..datasets import find_samples
    from ..errors import InputError, OutputError
    from ..evaluate import (
        REPORT_WORST,
        EdgeKeeper,
        WorstKeeper,
        check_settings,
        evaluate_dataset,
        plan_report,
        summarize,
        summary_table,
        write_report,
    )
    from ..io import path_kind
    from ..methods import resolve_name
    from ..segment import segment

    check_settings(args.threshold, args.tolerance)
    method = resolve_name(args.method)
    data = Path(args.data)
    if path_kind(data) != "folder":
        raise InputError("no such data folder", data)
    report_kind = path_kind(args.report, OutputError) if args.report else "missing"
    if report_kind not in ("folder", "missing"):
        raise OutputError("--report must be a folder", args.report)
    if args.limit is not None and args.limit < 1:
        print("skyseg: error: --limit must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    samples = find_samples(
        data, split=None if args.split == "all" else args.split, datasets=args.dataset
    )
    samples = _spread(samples, args.limit)
    if not samples:
        raise InputError(f"no labelled samples (images/ + masks/) for split {args.split!r}", data)
    if args.report:  # every file the report writes, checked before the work
        plan_report(
            args.report,
            REPORT_WORST,
            overwrite=args.overwrite,
            reads=[
                path
                for sample in samples
                for path in (sample.image, sample.mask, sample.matte, sample.canopy)
                if path is not None
            ],
        )

    worst_images = WorstKeeper(REPORT_WORST, threshold=args.threshold)
    worst_edges = EdgeKeeper()

    def keep(sample, image, pred, record) -> None:  # the report's pictures
        worst_images(sample, image, pred, record)
        worst_edges(sample, image, pred, record)

    failures = []

    def on_error(sample, exc) -> None:  # one line per failed image; the rest are still measured
        failures.append(exc)
        error_line(exc)

    records = evaluate_dataset(
        samples,
        lambda image: segment(image, method=method, refine=args.refine, detail=args.detail),
        threshold=args.threshold,
        tolerance=args.tolerance,
        progress=not args.quiet and sys.stderr.isatty(),
        keep=keep if args.report else None,
        on_error=on_error,
        canopy=not args.keep_canopy,
    )
    if not records:
        raise InputError("no image could be evaluated", data)
    summaries = summarize(records)
    settings = {
        "method": method,
        "failed": len(failures),
        "refine": args.refine,
        "detail": args.detail is not False,
        "canopy_left_out": not args.keep_canopy,
        "split": args.split,
        "data": str(data),
        "threshold": args.threshold,
        "tolerance_px": args.tolerance,
    }
    report_path = None
    if args.report:
        report_path = write_report(
            args.report,
            summaries,
            records,
            worst_images.worst,
            title=f"skyseg eval: {method}{'' if args.refine else ' (no refinement)'}",
            settings=settings,
            overwrite=args.overwrite,
            details=worst_edges.regions,
        )
    if args.json:
        payload = {**settings, "summaries": {k: v.as_dict() for k, v in summaries.items()}}
        if report_path is not None:
            payload["report"] = str(report_path)
        print(json_line(payload))
    else:
        print(summary_table(summaries))
        if report_path is not None:
            print(f"\nreport: {report_path}")
    return max([EXIT_OK] + [exc.exit_code for exc in failures])
