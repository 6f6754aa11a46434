"""ADE20K scene parser (``ade20k`` method): raw sky probability of the 12 MP photo, PyTorch vs ONNX.

The real CSAIL weights are not here, so the cases write checkpoints of the same architectures
with random weights (speed does not depend on the values) into a temporary folder during set-up
(not timed). Skipped when torch is not installed.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import shutil
import tempfile
from pathlib import Path

from .harness import case, photo

SHORT_SIDE = 384
MODELS = ("mobilenetv2dilated-c1_deepsup", "resnet50dilated-ppm_deepsup")


@functools.cache
def _weights(arch_name: str) -> Path:
    import torch

    from skyseg_core import _ade20k_arch as arch

    encoder_name, decoder_name = arch_name.split("-")
    tmp = tempfile.mkdtemp(prefix="bench-ade20k-")
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    folder = Path(tmp) / f"ade20k-{arch_name}"
    folder.mkdir()
    torch.manual_seed(0)
    encoder = arch.build_encoder(encoder_name)
    decoder = arch.build_decoder(decoder_name, arch.ENCODER_CHANNELS[encoder_name])
    torch.save(encoder.state_dict(), folder / "encoder_epoch_20.pth")
    torch.save(decoder.state_dict(), folder / "decoder_epoch_20.pth")
    return folder


def _setup(arch_name: str, backend: str):
    from skyseg_core.methods.ade20k import Ade20kMethod
    from skyseg_core.methods.ade20k_export import export_ade20k_onnx

    weights = _weights(arch_name)
    if backend == "onnx":
        onnx_path = weights / f"{arch_name}.onnx"
        export_ade20k_onnx(weights, onnx_path, short_side=SHORT_SIDE)
        method = Ade20kMethod(weights_dir=onnx_path)
    else:
        method = Ade20kMethod(weights_dir=weights, short_side=SHORT_SIDE)
    image = photo()
    return lambda: method(image)


if importlib.util.find_spec("torch") is not None:
    for _arch in MODELS:
        for _backend in ("torch", "onnx"):

            def _case(arch_name=_arch, backend=_backend):
                return _setup(arch_name, backend)

            _case.__name__ = f"ade20k_{_arch.split('-')[0]}_{_backend}"
            case(f"ade20k {_arch} ({_backend}, short side {SHORT_SIDE}, raw, upsampled)", repeat=3)(
                _case
            )
