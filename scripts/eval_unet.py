"""Measure a trained sky network on the fixed validation split, the way its model card reports it.

    python scripts/eval_unet.py [--method unet|deeplab] [--model FILE.onnx] [--limit N] [--json OUT]

Product path (network + refinement at full resolution) and the raw network output (bilinear
upsampling), optionally with flip averaging; per dataset, ADE20K + Stanford ("ordinary") and
overall: micro IoU, mean IoU, false-positive rate on sky-free photos, matte MAE, boundary F,
and the confidence figures (99th percentile of the matte on sky-free photos, median on true sky).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skyseg_core.datasets import find_samples  # noqa: E402
from skyseg_core.evaluate import evaluate_dataset, summarize_group  # noqa: E402
from skyseg_core.methods.deeplab import DeepLabMethod  # noqa: E402
from skyseg_core.methods.unet import UnetMethod  # noqa: E402
from skyseg_core.refine import refine  # noqa: E402

ORDINARY = ("ade20k_skyopt_cvprw2020", "stanford_background_iccv09")


def summaries(records) -> dict:
    out = {
        name: summarize_group([r for r in records if r.dataset == name]).as_dict()
        for name in sorted({r.dataset for r in records})
    }
    out["ordinary (ADE20K + Stanford)"] = summarize_group(
        [r for r in records if r.dataset in ORDINARY]
    ).as_dict()
    out["overall"] = summarize_group(records).as_dict()
    return out


def table(result: dict) -> str:
    rows = [
        "| group | images (sky / none) | micro IoU | mean IoU | FP rate sky-free | matte MAE | boundary F | sky-free p99 | sky median |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def f(v, d=3):
        return "-" if v is None else f"{v:.{d}f}"

    for name, s in result.items():
        rows.append(
            f"| {name} | {s['images']} ({s['images_with_sky']} / {s['images_without_sky']}) | {f(s['micro_iou'])} | "
            f"{f(s['mean_iou'])} | {f(s['fp_rate'], 4)} | {f(s['matte_mae'], 4)} | {f(s['boundary_f'])} | "
            f"{f(s['skyfree_p99'])} | {f(s['sky_median'])} |"
        )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "skyseg"))
    parser.add_argument("--method", choices=("unet", "deeplab"), default="unet")
    parser.add_argument("--model", default=None, help="ONNX model (default: the bundled one)")
    parser.add_argument(
        "--limit", type=int, default=0, help="every k-th image so that about N remain"
    )
    parser.add_argument("--variants", default="refine,raw,refine+flip")
    parser.add_argument("--json", default=None, help="write all summaries here")
    args = parser.parse_args()

    samples = find_samples(args.data, split="val")
    if args.limit:
        samples = samples[:: max(1, len(samples) // args.limit)]
    results = {}
    for variant in args.variants.split(","):
        factory = DeepLabMethod if args.method == "deeplab" else UnetMethod
        method = factory(model_path=args.model, flip_average="flip" in variant)
        if variant.startswith("refine"):

            def predict(image, method=method):
                return refine(image, method.coarse(image))
        else:
            predict = method
        t0 = time.perf_counter()
        records = evaluate_dataset(samples, predict)
        results[variant] = summaries(records)
        print(
            f"\n### {variant} ({len(samples)} validation images, {time.perf_counter() - t0:.0f} s)\n"
        )
        print(table(results[variant]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
