"""Train the detail stage (``assets/models/sky_detail.onnx``) and compare it on held-out photos.

    python scripts/train_detail.py -o assets/models/sky_detail.onnx   # 3 min on one core, once cached

Band pixels of the training split of ``../shared/data/skyseg`` (features from the ``deeplab``
method's coarse probability, cached under ``cache/detail-coarse/<method>-<model SHA-256>``), a per-pixel MLP
(:mod:`skyseg_core.train.detail`), ONNX export with its SHA-256 sidecar. Then, unless
``--no-compare``, held-out photos scored three ways on the cached coarse probabilities (a fixed
tenth of the training split kept out of the MLP, ``--compare-on dev``, for design choices; the
validation split with ``--compare-on val``):
coarse + guided refinement (the product path before the detail stage), detail alone, detail +
refinement (canopy pixels labelled not-sky left out, as ``skyseg eval`` does).
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skyseg_core.datasets import find_samples  # noqa: E402
from skyseg_core.detail import DetailModel, detail_matte  # noqa: E402
from skyseg_core.evaluate import image_metrics, load_truth, summarize, summary_table  # noqa: E402
from skyseg_core.methods import get_method  # noqa: E402
from skyseg_core.models import checked_model_file, sha256_of, write_sha256_sidecar  # noqa: E402
from skyseg_core.refine import refine  # noqa: E402
from skyseg_core.train.data import shared_layout_samples  # noqa: E402
from skyseg_core.train.detail import band_pixels, coarse_of, export_detail, train_mlp  # noqa: E402

WEIGHTS = {
    "ade20k_skyopt_cvprw2020": 5.0,  # the most photo-like data, and the only soft mattes
    "camvid_segnet": 0.25,
    "fisheye_gnss_sky": 2.0,  # its labels follow the leaves
    "skyfinder_subset_bakkopi": 1.5,
    "skyfinder_subset_yuennyao": 1.5,
}
"""Per-dataset weights (configs/sky_deeplab.toml's, ADE20K's raised: its soft mattes are what
the detail stage is about)."""


def is_dev(sample) -> bool:
    """A fixed tenth of the training split, held out of the MLP for choosing its design."""
    return zlib.crc32(f"{sample.dataset}/{sample.id}".encode()) % 10 == 0


def coarse_cache(root: Path, method_name: str) -> Path:
    """The method's coarse-probability cache, keyed by its model file's SHA-256: a new coarse
    model (``$SKYSEG_DEEPLAB_MODEL``) never reads another model's probabilities (``f32``: the
    cache's format; the float16 caches before it are not read)."""
    method = type(get_method(method_name))
    path = checked_model_file(method.model_name, env_var=method.model_env)
    return root / f"{method_name}-{sha256_of(path)[:12]}-f32"


def compare(
    data: Path, model_path: Path, method: str, cache: Path, split: str, limit: int | None
) -> None:
    model = DetailModel.load(model_path)
    net = get_method(method)
    samples = find_samples(data, split="train" if split == "dev" else "val")
    if split == "dev":
        samples = [s for s in samples if is_dev(s)]
    samples = samples[:limit]
    records: dict[str, list] = {"coarse + refine": [], "detail": [], "detail + refine": []}
    train_like = shared_layout_samples(data)
    by_key = {(s.dataset, s.id): s for s in train_like}
    for sample in samples:
        image, coarse = coarse_of(by_key[(sample.dataset, sample.id)], net, cache)
        truth, matte = load_truth(sample)
        detail = detail_matte(image, coarse, model)
        preds = {
            "coarse + refine": refine(image, coarse),
            "detail": detail,
            "detail + refine": refine(image, detail, working_size=model.working_size),
        }
        for name, pred in preds.items():
            records[name].append(
                image_metrics(pred, truth, matte, dataset=sample.dataset, id=sample.id)
            )
    for name, recs in records.items():
        print(f"\n### {name}\n")
        print(summary_table(summarize(recs)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "runs/sky_detail.onnx")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/skyseg")
    parser.add_argument(
        "--method", default="deeplab", help="the network whose coarse output it refines"
    )
    parser.add_argument("--cache", type=Path, default=ROOT / "cache/detail-coarse")
    parser.add_argument("--per-image", type=int, default=3000)
    parser.add_argument(
        "--undecided-per-image",
        type=int,
        default=0,
        help="pixels of a strip along the sky edge left undecided, as the editor's brush asks "
        "(off: tried with 1500 on network version 3, see assets/models/sky_deeplab.md)",
    )
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--working-size", type=int, default=640)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--compare-only", action="store_true")
    parser.add_argument("--no-compare", action="store_true")
    parser.add_argument("--limit", type=int, default=None, help="photos to compare (all)")
    parser.add_argument(
        "--compare-on",
        choices=("dev", "val"),
        default="dev",
        help="dev: a tenth of the training split kept out of the MLP (for design choices); "
        "val: the validation split (for the figures reported)",
    )
    args = parser.parse_args(argv)
    cache = coarse_cache(args.cache, args.method)
    if not args.compare_only:
        start = time.monotonic()
        samples = [s for s in shared_layout_samples(args.data, split="train") if not is_dev(s)]
        pixels = band_pixels(
            samples,
            args.method,
            args.per_image,
            WEIGHTS,
            cache,
            undecided_per_image=args.undecided_per_image,
        )
        print(
            f"{len(pixels.target)} band pixels from {len(samples)} photos, "
            f"{time.monotonic() - start:.0f} s"
        )
        net = train_mlp(pixels, epochs=args.epochs, threads=args.threads)
        minutes = (time.monotonic() - start) / 60
        args.output.parent.mkdir(parents=True, exist_ok=True)
        export_detail(
            net,
            args.output,
            args.working_size,
            samples,
            {
                "coarse_method": args.method,
                "training_minutes": f"{minutes:.1f}",
                "band_pixels": len(pixels.target),
                "undecided_per_image": args.undecided_per_image,
            },
        )
        write_sha256_sidecar(args.output)
        print(f"wrote {args.output} ({args.output.stat().st_size} bytes) after {minutes:.1f} min")
    if not args.no_compare:
        compare(args.data, args.output, args.method, cache, args.compare_on, args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
