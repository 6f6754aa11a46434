"""``skyseg export-ade20k``: ADE20K weights (CSAIL checkpoints or TF DeepLab's ``.tflite``) to
one ONNX file the ``ade20k`` method runs without torch (needs the ``train`` extra: torch is
imported here, inside the functions)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import __version__
from .._threads import compute_threads
from ..errors import ModelFileError
from ..io import atomic_output
from ..models import onnx_session, sha256_of
from .ade20k import (
    DEFAULT_MAX_LONG_SIDE,
    DEFAULT_SHORT_SIDE,
    NUM_CLASSES,
    ONNX_KIND,
    SKY_CHANNEL,
    TF_DEEPLAB,
    TF_DEEPLAB_SIZE,
    TF_DEEPLAB_SKY_CHANNEL,
    TFLiteBackend,
    TorchBackend,
    find_ade20k_weights,
)


def export_ade20k_onnx(
    weights_dir: str | os.PathLike,
    output: str | os.PathLike,
    *,
    overwrite: bool = False,
    arch: str | None = None,
    short_side: int = DEFAULT_SHORT_SIDE,
    max_long_side: int = DEFAULT_MAX_LONG_SIDE,
    opset: int = 17,
    tolerance: float = 1e-4,
) -> dict:
    """Export ADE20K checkpoints to one ONNX file that outputs the sky probability.

    The graph takes ``image`` (N, 3, H, W) float32 RGB in [0, 1] (H, W multiples of 8, any
    size) and returns ``sky`` (N, H, W): normalisation, network, bilinear upsampling of the
    logits and softmax are inside. The metadata records the architecture, preprocessing
    (``short_side``, ``max_long_side``, ``pad_multiple``, mean, std), the output meaning and the
    source checkpoints' SHA-256. Before writing (atomically) the export is checked against
    PyTorch on a sample whose size differs from the traced one.

    Returns
    -------
    info : dict
        ``output``, ``arch``, ``bytes``, ``max_abs_diff`` (PyTorch vs ONNX Runtime on the check).
    """

    from .. import _ade20k_arch as arch_module  # torch at its top

    weights = find_ade20k_weights(weights_dir)
    if weights.kind == "onnx":
        raise ModelFileError(
            "is already an ONNX file; export needs the .pth checkpoints or the .tflite file",
            weights.paths[0],
        )
    if weights.kind == "tflite":
        return _export_tf_deeplab(
            weights.paths[0], output, overwrite=overwrite, opset=opset, tolerance=tolerance
        )
    backend = TorchBackend(weights.paths[0], weights.paths[1], arch)
    model = backend.model
    metadata = {
        "kind": ONNX_KIND,
        "arch": backend.arch,
        "source": "CSAILVision/semantic-segmentation-pytorch (BSD-3-Clause); weights trained on ADE20K (research terms)",
        "checkpoints": ", ".join(f"{p.name} sha256={sha256_of(p)}" for p in weights.paths),
        "input": "image: float32 (N, 3, H, W) RGB in [0, 1], H and W multiples of pad_multiple",
        "output": f"sky: float32 (N, H, W) softmax probability of ADE20K class 'sky' (channel {SKY_CHANNEL} of {NUM_CLASSES}) at the input size",
        "normalization": f"inside the graph: (x - mean) / std, mean={list(arch_module.MEAN)}, std={list(arch_module.STD)}",
        "mean": ",".join(map(str, arch_module.MEAN)),
        "std": ",".join(map(str, arch_module.STD)),
        "short_side": str(short_side),
        "max_long_side": str(max_long_side),
        "pad_multiple": str(arch_module.OUTPUT_STRIDE),
        "sky_channel": str(SKY_CHANNEL),
        "skyseg_version": __version__,
    }
    # traced at the exporter's default size, checked at another (the graph takes any size)
    return _write_checked_onnx(
        model,
        backend.arch,
        output,
        metadata,
        (56, 40),
        overwrite=overwrite,
        opset=opset,
        tolerance=tolerance,
    )


def _write_checked_onnx(
    model,
    arch: str,
    output,
    metadata: dict,
    check_size: tuple[int, int],
    *,
    overwrite: bool,
    opset: int,
    tolerance: float,
    trace_size: tuple[int, int] | None = None,
) -> dict:
    """Export ``model`` to ``output`` (atomically; traced at ``trace_size``, default the
    exporter's) once ONNX Runtime agrees with PyTorch on a random ``check_size`` image; the
    ``export_ade20k_onnx`` result dict."""
    import torch

    from .. import _ade20k_arch as arch_module  # torch at its top

    out = Path(output)
    with atomic_output(out, overwrite=overwrite) as tmp:
        trace = {"sample_size": trace_size} if trace_size else {}
        arch_module.export_onnx(model, tmp, metadata, opset=opset, **trace)
        sample = np.random.default_rng(0).random((1, 3, *check_size), dtype=np.float32)
        session = onnx_session(tmp, "exported ADE20K model", compute_threads(0))
        got = session.run(None, {"image": sample})[0]
        with torch.inference_mode():
            want = model(torch.from_numpy(sample)).numpy()
        diff = float(np.abs(got - want).max())
        if not diff <= tolerance:
            raise ModelFileError(
                f"ONNX export disagrees with PyTorch (max |diff| {diff:.3g} > {tolerance})", out
            )
    return {"output": str(out), "arch": arch, "bytes": out.stat().st_size, "max_abs_diff": diff}


def _export_tf_deeplab(
    path: Path, output, *, overwrite: bool, opset: int, tolerance: float
) -> dict:
    """:func:`export_ade20k_onnx` for TF DeepLab's ``.tflite`` file (fixed 513 x 513 input, as
    the file itself)."""

    backend = TFLiteBackend(path)
    size = TF_DEEPLAB_SIZE
    metadata = {
        "kind": ONNX_KIND,
        "arch": backend.arch,
        "source": "TF DeepLab model zoo (tensorflow/models) mobilenetv2_ade20k_train, TFLite "
        "deeplabv3-mobilenetv2-ade20k; weights Apache-2.0, trained on ADE20K (research terms)",
        "checkpoints": f"{path.name} sha256={sha256_of(path)}",
        "input": f"image: float32 (N, 3, {size}, {size}) RGB in [0, 1], the photo's longer side scaled to {size}, padded bottom/right with 0.5",
        "output": f"sky: float32 (N, H, W) softmax probability of class 'sky' (channel {TF_DEEPLAB_SKY_CHANNEL} of 151) at the input size",
        "normalization": "inside the graph: x * 2 - 1",
        "preprocess": TF_DEEPLAB,
        "input_size": str(size),
        "sky_channel": str(TF_DEEPLAB_SKY_CHANNEL),
        "skyseg_version": __version__,
    }
    return _write_checked_onnx(
        backend.model,
        backend.arch,
        output,
        metadata,
        (size, size),
        overwrite=overwrite,
        opset=opset,
        tolerance=tolerance,
        trace_size=(size, size),
    )
