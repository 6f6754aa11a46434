"""Quantise an exported sky model (ONNX) to int8: ONNX Runtime's static QDQ quantisation, or
int8 weights only.

    python scripts/quantize_model.py assets/models/sky_deeplab.onnx -o /tmp/sky_deeplab_int8.onnx \
        [--data ../shared/data/skyseg] [--images 64]
    python scripts/quantize_model.py runs/unet_imagenet/model.onnx -o /tmp/sky_unet_w8.onnx --weights-only

``--weights-only`` stores each convolution's weights as int8 (symmetric, one scale per output
channel) behind a ``DequantizeLinear`` and computes in float32: a quarter of the file, the
network's own accuracy. Static quantisation (the default) also runs the activations in uint8,
which the sky DeepLab takes (0.001 overall) but the U-Net's decoder does not (0.86 -> 0.33).

Calibration runs the network on photos of the *train* split, preprocessed exactly as the
`unet`/`deeplab` methods do (the model's own metadata: working size, mean, std, divisor), so
the activation ranges are those the shipped method sees. Weights per channel (int8), activations
uint8. The model's metadata (format, preprocessing, training-data hash) is carried over and
``quantization`` is added. Score the result with
``SKYSEG_DEEPLAB_MODEL=FILE skyseg eval --data ../shared/data/skyseg --method deeplab``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skyseg_core import load_image  # noqa: E402
from skyseg_core.datasets import find_samples  # noqa: E402
from skyseg_core.matte import to_float_rgb  # noqa: E402
from skyseg_core.methods._base import resize_long_side  # noqa: E402
from skyseg_core.methods.unet import _UnetSession  # noqa: E402


def calibration_inputs(model: Path, data: Path, count: int) -> list[np.ndarray]:
    session = _UnetSession(model, threads=1)
    samples = find_samples(data, split="train")
    step = max(1, len(samples) // count)
    inputs = []
    for sample in samples[::step][:count]:
        image = to_float_rgb(resize_long_side(load_image(sample.image), session.working_size))
        h, w = image.shape[:2]
        x = (image - session.mean) / session.std
        ph, pw = (-h) % session.divisor, (-w) % session.divisor
        x = np.pad(x, ((0, ph), (0, pw), (0, 0)), mode="reflect" if ph < h and pw < w else "edge")
        inputs.append(np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32))
    return inputs


def quantize_weights(model):
    """Convolution weights as int8 + per-channel scale behind a DequantizeLinear (in place)."""
    from onnx import helper, numpy_helper

    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    weights = {
        node.input[1]
        for node in graph.node
        if node.op_type in ("Conv", "ConvTranspose")
        and len(node.input) > 1
        and node.input[1] in initializers
    }
    dequantize = []
    for name in sorted(weights):
        w = numpy_helper.to_array(initializers[name]).astype(np.float32)
        if w.size < 256:  # a bias-sized tensor: nothing to gain
            continue
        scale = np.abs(w.reshape(w.shape[0], -1)).max(axis=1) / np.float32(127)
        scale[scale == 0] = 1.0
        codes = np.clip(np.round(w / scale.reshape(-1, *[1] * (w.ndim - 1))), -127, 127).astype(
            np.int8
        )
        graph.initializer.remove(initializers[name])
        graph.initializer.extend(
            [
                numpy_helper.from_array(codes, name + "_int8"),
                numpy_helper.from_array(scale.astype(np.float32), name + "_scale"),
                numpy_helper.from_array(np.zeros(w.shape[0], np.int8), name + "_zero"),
            ]
        )
        dequantize.append(
            helper.make_node(
                "DequantizeLinear",
                [name + "_int8", name + "_scale", name + "_zero"],
                [name],
                axis=0,
                name=name + "_dequantize",
            )
        )
    for node in reversed(dequantize):  # before their users: ONNX wants nodes in topological order
        graph.node.insert(0, node)
    return len(dequantize)


def main(argv: list[str] | None = None) -> int:
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "skyseg")
    parser.add_argument(
        "--images", type=int, default=64, help="calibration photos from the train split"
    )
    parser.add_argument(
        "--weights-only", action="store_true", help="int8 convolution weights, float32 compute"
    )
    args = parser.parse_args(argv)

    original = {p.key: p.value for p in onnx.load(str(args.model)).metadata_props}
    if args.weights_only:
        model = onnx.load(str(args.model))
        count = quantize_weights(model)
        onnx.checker.check_model(model)
        _save(
            model,
            args.output,
            {
                **original,
                "quantization": f"int8 weights only ({count} convolutions), float32 compute",
            },
        )
        print(
            f"{args.output}: {args.output.stat().st_size / 1e6:.1f} MB (from {args.model.stat().st_size / 1e6:.1f} MB)"
        )
        return 0

    inputs = calibration_inputs(args.model, args.data, args.images)
    name = onnx.load(str(args.model), load_external_data=False).graph.input[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._items = iter(inputs)

        def get_next(self):
            item = next(self._items, None)
            return None if item is None else {name: item}

    quantize_static(
        str(args.model),
        str(args.output),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        weight_type=QuantType.QInt8,
        activation_type=QuantType.QUInt8,
    )
    _save(
        onnx.load(str(args.output)),
        args.output,
        {**original, "quantization": f"int8 QDQ, {len(inputs)} calibration photos (train split)"},
    )
    print(
        f"{args.output}: {args.output.stat().st_size / 1e6:.1f} MB (from {args.model.stat().st_size / 1e6:.1f} MB)"
    )
    return 0


def _save(model, path: Path, metadata: dict) -> None:
    """Save with the exported model's metadata (what the methods read), plus how it was quantised."""
    import onnx

    model.metadata_props.clear()
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))


if __name__ == "__main__":
    sys.exit(main())
