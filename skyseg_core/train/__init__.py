"""Training of the sky U-Net (the ``train`` extra: torch, segmentation-models-pytorch, albumentations).

``skyseg train --config configs/unet_small.toml`` runs :func:`train`; ``skyseg export`` turns a
checkpoint into the ONNX file the ``unet`` method runs (:func:`export_onnx`). Importing this
package does not import torch; its functions do, when called.
"""

from __future__ import annotations

from .data import (
    TrainSample,
    ade20k_samples,
    build_cache,
    collect_samples,
    data_hash,
    folder_pair_samples,
    read_truth,
    shared_layout_samples,
)
from .loop import DEFAULT_CONFIG, load_checkpoint, load_config, train

__all__ = [
    "DEFAULT_CONFIG",
    "TrainSample",
    "ade20k_samples",
    "build_cache",
    "collect_samples",
    "data_hash",
    "folder_pair_samples",
    "load_checkpoint",
    "load_config",
    "read_truth",
    "shared_layout_samples",
    "train",
]
