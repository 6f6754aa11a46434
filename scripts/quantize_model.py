"""Quantise an exported sky model (ONNX) to int8 with ONNX Runtime's static QDQ quantisation.

    python scripts/quantize_model.py assets/models/sky_deeplab.onnx -o /tmp/sky_deeplab_int8.onnx \
        [--data ../shared/data/skyseg] [--images 64]

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
    parser.add_argument("--images", type=int, default=64, help="calibration photos from the train split")
    args = parser.parse_args(argv)

    inputs = calibration_inputs(args.model, args.data, args.images)
    name = onnx.load(str(args.model), load_external_data=False).graph.input[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._items = iter(inputs)

        def get_next(self):
            item = next(self._items, None)
            return None if item is None else {name: item}

    quantize_static(str(args.model), str(args.output), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8)
    original = {p.key: p.value for p in onnx.load(str(args.model)).metadata_props}
    quantized = onnx.load(str(args.output))
    quantized.metadata_props.clear()
    for key, value in {**original, "quantization": f"int8 QDQ, {len(inputs)} calibration photos (train split)"}.items():
        entry = quantized.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(quantized, str(args.output))
    print(f"{args.output}: {args.output.stat().st_size / 1e6:.1f} MB (from {args.model.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
