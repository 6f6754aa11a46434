"""Train the ``classifier`` sky method and export it to ONNX.

    .venv/bin/python scripts/train_classifier.py            # writes assets/models/classifier.onnx

Reads the TRAIN split of ``../shared/data/skyseg`` (skyseg_core.datasets.find_samples), samples
pixels from every image at the method's working size (ignore label 128 left out; half sky,
half not, weighted back to their true shares), gives every dataset group the same total weight
(CamVid's 600 correlated frames count as much as 37 fisheye shots), fits a
scikit-learn HistGradientBoostingClassifier on :func:`skyseg_core.methods.classifier.sky_features`,
exports it to ONNX with onnx.helper (feature names, working size, version and a hash of the training list
in the ONNX metadata) and records the file's SHA-256 in ``classifier.onnx.sha256``.
Needs the ``train`` extra (scikit-learn, onnx; onnxruntime checks the export).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skyseg_core.methods.classifier import FEATURE_NAMES, FEATURE_VERSION, MODEL_NAME  # noqa: E402
from skyseg_core.models import write_sha256_sidecar  # noqa: E402
from skyseg_core.train.classifier import (  # noqa: E402
    DATASET_GROUPS,
    HYPERPARAMETERS,
    fit_classifier,
    pixel_table,
)
from skyseg_core.train.data import load_pair, shared_layout_samples  # noqa: E402


def export_onnx(clf, out: Path, metadata: dict, probe: np.ndarray) -> None:
    """Write ``clf`` (a fitted binary HistGradientBoostingClassifier) as an ONNX tree ensemble.

    Built directly with onnx.helper (a TreeEnsembleRegressor summing the raw scores, then a
    sigmoid) because skl2onnx 1.20 fails on scikit-learn 1.9's boolean tree fields. Output
    ``probabilities``: (N, 2) float32, column 1 = P(sky). Features are always finite, so the
    trees' missing-value branches are not needed.
    """
    import onnx
    from onnx import TensorProto, helper

    attrs: dict[str, list] = {k: [] for k in (
        "nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
        "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true",
        "target_treeids", "target_nodeids", "target_ids", "target_weights",
    )}  # fmt: skip
    for tree_id, (predictor,) in enumerate(clf._predictors):
        for node_id, node in enumerate(predictor.nodes):
            leaf = bool(node["is_leaf"])
            attrs["nodes_treeids"].append(tree_id)
            attrs["nodes_nodeids"].append(node_id)
            attrs["nodes_featureids"].append(0 if leaf else int(node["feature_idx"]))
            attrs["nodes_values"].append(0.0 if leaf else float(node["num_threshold"]))
            attrs["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
            attrs["nodes_truenodeids"].append(0 if leaf else int(node["left"]))
            attrs["nodes_falsenodeids"].append(0 if leaf else int(node["right"]))
            attrs["nodes_missing_value_tracks_true"].append(int(node["missing_go_to_left"]))
            if leaf:
                attrs["target_treeids"].append(tree_id)
                attrs["target_nodeids"].append(node_id)
                attrs["target_ids"].append(0)
                attrs["target_weights"].append(float(node["value"]))
    n_features = len(FEATURE_NAMES)
    trees = helper.make_node(
        "TreeEnsembleRegressor", ["features"], ["raw"], domain="ai.onnx.ml", n_targets=1,
        aggregate_function="SUM", base_values=[float(np.ravel(clf._baseline_prediction)[0])], **attrs,
    )  # fmt: skip
    nodes = [
        trees,
        helper.make_node("Sigmoid", ["raw"], ["p_sky"]),
        helper.make_node("Sub", ["one", "p_sky"], ["p_ground"]),
        helper.make_node("Concat", ["p_ground", "p_sky"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "skyseg_classifier",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2])],
        initializer=[helper.make_tensor("one", TensorProto.FLOAT, [1, 1], [1.0])],
    )
    onx = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)]
    )
    onx.ir_version = 8
    onnx.checker.check_model(onx)
    for key, value in metadata.items():
        prop = onx.metadata_props.add()
        prop.key, prop.value = key, value if isinstance(value, str) else json.dumps(value)
    onx.doc_string = "skyseg classifier: per-pixel sky probability (output 'probabilities'[:, 1])"
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(onx.SerializeToString())
    tmp.replace(out)
    # the export must agree with scikit-learn
    import onnxruntime as ort

    got = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(
        None, {"features": probe}
    )[0]
    want = clf.predict_proba(probe)
    err = float(np.abs(got[:, 1] - want[:, 1]).max())
    if err > 1e-3:
        raise RuntimeError(f"ONNX export disagrees with scikit-learn by {err:.2g}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "skyseg"))
    parser.add_argument("--out", default=str(ROOT / "assets" / "models" / MODEL_NAME))
    parser.add_argument("--working-size", type=int, default=256)
    parser.add_argument("--per-image", type=int, default=400, help="pixels sampled per image")
    parser.add_argument("--max-iter", type=int, default=HYPERPARAMETERS["max_iter"])
    parser.add_argument("--max-leaf-nodes", type=int, default=HYPERPARAMETERS["max_leaf_nodes"])
    parser.add_argument("--learning-rate", type=float, default=HYPERPARAMETERS["learning_rate"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    samples = shared_layout_samples(args.data, split="train")
    listing = "\n".join(f"{s.dataset}/{s.id}" for s in samples).encode()
    start = time.perf_counter()
    pairs = ((s.dataset, *load_pair(s).values()) for s in samples)
    x, y, w = pixel_table(pairs, args.working_size, args.per_image, args.seed)
    print(
        f"{len(samples)} train images, {len(y):,} pixels ({y.mean():.1%} sky), features in {time.perf_counter() - start:.0f} s"
    )
    start = time.perf_counter()
    clf = fit_classifier(
        x,
        y,
        w,
        seed=args.seed,
        max_iter=args.max_iter,
        max_leaf_nodes=args.max_leaf_nodes,
        learning_rate=args.learning_rate,
    )
    print(f"fitted in {time.perf_counter() - start:.0f} s; train accuracy {clf.score(x, y):.4f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(
        clf,
        out,
        {
            "skyseg_method": "classifier",
            "feature_names": list(FEATURE_NAMES),
            "feature_version": str(FEATURE_VERSION),
            "working_size": str(args.working_size),
            "output": "probabilities[:, 1] = P(sky)",
            "training_data": "train split of ../shared/data/skyseg, sha256 of sample list "
            + hashlib.sha256(listing).hexdigest(),
            "hyperparameters": {k: v for k, v in vars(args).items() if k not in ("data", "out")},
            "balance": "per photo half sky / half not, weighted back to true shares; equal total "
            "weight per dataset group " + json.dumps(DATASET_GROUPS),
            "licence": "inherits research-only / non-commercial terms of its training data",
        },
        probe=x[:: max(1, len(x) // 5000)],
    )
    side = write_sha256_sidecar(out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) and {side.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
