"""Compare sky U-Net files on the fixed validation split, alone and in ``blend`` with the classifier.

    python scripts/compare_models.py NAME=MODEL.onnx [NAME=MODEL.onnx ...] [--out docs/unet_experiments]

Each model runs the product path (network + refinement at full resolution), once alone (what
``--method unet`` does with that file) and once averaged with the ``classifier`` method (what
``blend`` does). Writes ``OUT.md`` (micro IoU per dataset, false positives on sky-free photos)
and ``OUT.png`` (the same as bars).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skyseg_core.datasets import find_samples  # noqa: E402
from skyseg_core.evaluate import evaluate_dataset, summarize_group  # noqa: E402
from skyseg_core.methods.blend import BlendMethod  # noqa: E402
from skyseg_core.methods.classifier import ClassifierMethod  # noqa: E402
from skyseg_core.methods.unet import UnetMethod  # noqa: E402
from skyseg_core.refine import refine  # noqa: E402

GROUPS = {
    "ADE20K": ("ade20k_skyopt_cvprw2020",),
    "Stanford": ("stanford_background_iccv09",),
    "ADE20K + Stanford": ("ade20k_skyopt_cvprw2020", "stanford_background_iccv09"),
    "CamVid": ("camvid_segnet",),
    "fisheye": ("fisheye_gnss_sky",),
    "SkyFinder": ("skyfinder_subset_bakkopi", "skyfinder_subset_yuennyao"),
    "overall": None,
}


def measure(samples, method) -> dict:
    """Micro IoU per group and the false-positive rate of ``method`` with refinement (as ``segment``)."""
    records = evaluate_dataset(samples, lambda image: refine(image, method.coarse(image)))
    out = {}
    for group, datasets in GROUPS.items():
        out[group] = summarize_group(
            [r for r in records if datasets is None or r.dataset in datasets]
        ).micro_iou
    out["FP sky-free"] = summarize_group(records).fp_rate
    return out


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(GROUPS)
    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / len(results)
    for i, (name, row) in enumerate(results.items()):
        ax.bar(np.arange(len(groups)) + i * width, [row[g] for g in groups], width, label=name)
    ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2, groups)
    ax.set(
        ylabel="micro IoU (refined)",
        ylim=(0.5, 1.0),
        title="validation split: sky U-Net files alone and blended with the classifier",
    )
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("models", nargs="+", metavar="NAME=MODEL.onnx")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "skyseg"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "unet_experiments"))
    args = parser.parse_args()

    samples = find_samples(args.data, split="val")
    classifier = ClassifierMethod()
    results = {}
    for spec in args.models:
        name, _, path = spec.partition("=")
        unet = UnetMethod(model_path=path)
        for label, method in (
            (name, unet),
            (f"{name} + classifier", BlendMethod(members=[unet, classifier])),
        ):
            t0 = time.perf_counter()
            results[label] = measure(samples, method)
            print(
                f"{label}: {json.dumps({k: round(v, 3) for k, v in results[label].items()})} "
                f"({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
    columns = [*GROUPS, "FP sky-free"]
    lines = [
        f"| model ({len(samples)} validation photos) | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for label, row in results.items():
        lines.append(f"| {label} | " + " | ".join(f"{row[c]:.3f}" for c in columns) + " |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    plot(results, out.with_suffix(".png"))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
