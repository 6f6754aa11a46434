"""Export a training checkpoint to the ONNX file the ``unet`` method runs.

The graph takes ``image``: float32 (N, 3, H, W), RGB scaled to [0, 1] then normalised with the
recorded mean/std, H and W multiples of the recorded divisor (a model trained with a prior
takes a fourth channel: the classifier's sky probability scaled to [-1, 1], metadata
``prior``); it returns ``sky``: float32
(N, 1, H, W), the sigmoid sky probability. The metadata travels with the weights (STYLE.md
point 5): preprocessing, working size, divisor, output meaning, versions, training-data hash.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import warnings
from pathlib import Path

from .model import SKY_DEEPLAB, build_model, preprocessing
from .prior import prior_model_sha256

FORMAT = "skyseg-sky-unet/1"
"""The metadata format the ``unet`` method understands."""

OUTPUT_MEANING = "sigmoid sky probability, (N, 1, H, W), 1 = sky; not stretched, not thresholded"


def _probability_model(model):
    import torch

    class SkyProbability(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, image):
            return torch.sigmoid(self.net(image))

    return SkyProbability(model).eval()


def model_from_checkpoint(checkpoint: str | os.PathLike | dict):
    """(model in eval mode, checkpoint dict) from a path or an already loaded checkpoint."""
    from .loop import load_checkpoint

    state = load_checkpoint(checkpoint) if not isinstance(checkpoint, dict) else checkpoint
    params = dict(state["config"]["model"])
    params["encoder_weights"] = None
    params["init"] = ""  # the checkpoint holds every weight; the published file is not needed
    model = build_model(**params)
    model.load_state_dict(state["model"])
    return model.eval(), state


def export_onnx(
    checkpoint: str | os.PathLike | dict,
    output: str | os.PathLike,
    *,
    working_size: int | None = None,
    opset: int = 17,
    overwrite: bool = False,
    extra_metadata: dict | None = None,
) -> dict:
    """Write the checkpoint's network as ONNX with metadata; returns the metadata written.

    Parameters
    ----------
    checkpoint : path or dict
        A checkpoint from ``skyseg train`` (``last.pt`` / ``best.pt``).
    output : path
        The ``.onnx`` file (written atomically) plus its ``.sha256`` sidecar.
    working_size : int, optional
        Longer side the ``unet`` method shrinks photos to; default: the training cache's
        ``long_side`` (the scale the network saw).
    """
    import onnx
    import torch

    from .. import __version__
    from ..io import atomic_output
    from ..models import sha256_of, write_sha256_sidecar

    model, state = model_from_checkpoint(checkpoint)
    net = _probability_model(model)
    config = state["config"]
    last = state["history"][-1] if state.get("history") else {}
    prior = config["model"].get("prior", "")
    prep = preprocessing(config["model"])
    channels = "RGB / 255, then (x - mean) / std" + (
        f"; channel 4: the {prior} method's sky probability * 2 - 1" if prior else ""
    )
    metadata = {
        "format": FORMAT,
        "skyseg_version": __version__,
        "arch": config["model"].get("arch", "Unet"),
        "encoder": "mobilenet_v2"
        if config["model"].get("arch") == SKY_DEEPLAB
        else config["model"].get("encoder", ""),
        "input": f"image: float32 (N, {4 if prior else 3}, H, W), {channels}; H, W multiples of divisor",
        "prior": prior,
        "mean": json.dumps(list(prep["mean"])),
        "std": json.dumps(list(prep["std"])),
        "divisor": str(prep["divisor"]),
        "working_size": str(working_size or config["data"].get("long_side", 320)),
        "output": OUTPUT_MEANING,
        "training_data_sha256": state.get("data_hash", ""),
        "epochs": str(state.get("epoch", 0)),
        "validation": json.dumps(last.get("val", {}).get("overall", {})),
        "exported": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if prior:
        metadata["prior_model_sha256"] = state.get("prior_model_sha256") or prior_model_sha256(
            prior
        )
    if extra_metadata:
        metadata.update({k: str(v) for k, v in extra_metadata.items()})
    if config["model"].get("init"):
        metadata["initial_weights"] = Path(config["model"]["init"]).name
    dummy = torch.zeros(1, 4 if prior else 3, 2 * prep["divisor"], 3 * prep["divisor"])
    with atomic_output(output, overwrite=overwrite) as tmp:
        with warnings.catch_warnings():
            # The TorchScript exporter: needs no onnxscript and gives a plain, small graph.
            warnings.filterwarnings(
                "ignore",
                message=".*legacy TorchScript-based ONNX export",
                category=DeprecationWarning,
            )
            torch.onnx.export(
                net,
                (dummy,),
                str(tmp),
                input_names=["image"],
                output_names=["sky"],
                opset_version=opset,
                dynamic_axes={
                    "image": {0: "batch", 2: "height", 3: "width"},
                    "sky": {0: "batch", 2: "height", 3: "width"},
                },
                dynamo=False,
            )
        proto = onnx.load(str(tmp))
        for key, value in metadata.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        proto.producer_name = "skyseg"
        proto.doc_string = (
            f"skyseg sky U-Net ({metadata['arch']} / {metadata['encoder']}): {OUTPUT_MEANING}"
        )
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp))
    write_sha256_sidecar(output)
    metadata["sha256"] = sha256_of(output)
    metadata["bytes"] = Path(output).stat().st_size
    return metadata


def load_exported_weights(model, path: str | os.PathLike) -> None:
    """Load into ``model`` the weights of an ONNX file this module exported from the same
    architecture (fp32, or int8 QDQ from ``scripts/quantize_model.py``, dequantised), so a
    shipped model can be fine-tuned further without its training checkpoint."""
    import numpy as np
    import onnx
    import torch
    from onnx import numpy_helper

    stored = {t.name: t for t in onnx.load(str(path)).graph.initializer}

    def value(name: str) -> np.ndarray | None:
        if name in stored:
            return numpy_helper.to_array(stored[name]).astype(np.float32)
        quantized = stored.get(f"{name}_quantized")
        if quantized is None:
            return None
        # QDQ names its scale "<w>_scale" for weights and "<w>_quantized_scale" for biases
        prefix = f"{name}_quantized" if f"{name}_quantized_scale" in stored else name
        q = numpy_helper.to_array(quantized).astype(np.float32)
        scale = numpy_helper.to_array(stored[f"{prefix}_scale"]).astype(np.float32)
        zero = numpy_helper.to_array(stored[f"{prefix}_zero_point"]).astype(np.float32)
        shape = (-1,) + (1,) * (q.ndim - 1) if scale.ndim else ()
        return (q - zero.reshape(shape)) * scale.reshape(shape)

    state = model.state_dict()
    missing = []
    for key, tensor in state.items():
        array = value(f"net.{key}")
        if array is None or array.shape != tuple(tensor.shape):
            missing.append(key)
            continue
        state[key] = torch.from_numpy(array)
    if missing:
        raise ValueError(
            f"{path}: no matching weights for {len(missing)} tensors ({missing[0]}, ...)"
        )
    model.load_state_dict(state)
