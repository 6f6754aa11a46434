"""Training the detail stage (:mod:`skyseg_core.detail`): band pixels of the training split,
their features from the shipped network's coarse probability, a per-pixel MLP, ONNX export.

Truth: the soft matte where the data has one, else the mask; ignored pixels and canopy pixels
labelled not-sky (:func:`skyseg_core.train.data.read_truth`) are left out, so the classifier
learns gaps in foliage from the datasets whose labels follow the leaves.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..detail import FEATURE_NAMES, FEATURE_VERSION, detail_band, detail_features
from ..matte import to_float_rgb
from ..methods import get_method
from .data import TrainSample, data_hash, read_truth

FORMAT = "skyseg-detail/1"
HIDDEN = (48, 48)


@dataclass
class PixelSet:
    features: np.ndarray  # (N, F) float32
    target: np.ndarray  # (N,) float32 in [0, 1]
    weight: np.ndarray  # (N,) float32


def coarse_of(sample: TrainSample, method, cache_dir: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """(photo float32 RGB, the method's coarse probability at the photo's size), cached."""
    from ..io import load_image

    image = to_float_rgb(load_image(sample.image))
    cached = None if cache_dir is None else cache_dir / sample.dataset / f"{sample.id}.npy"
    if cached is not None and cached.exists():
        coarse = np.load(cached)
    else:
        coarse = method.coarse(image)
        if cached is not None:
            # float32 as the product runs it: a float16 cache gave a first run (computing) and
            # later runs (reading) different features, and a detail model 0.002 IoU apart
            cached.parent.mkdir(parents=True, exist_ok=True)
            np.save(cached, np.asarray(coarse, np.float32))
    h, w = image.shape[:2]
    return image, cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)


UNDECIDED_WIDTH = (0.01, 0.05)
"""Half-widths, as fractions of the photo's longer side, of the strip along the network's sky
edge left undecided in :func:`undecided_edge` (a brush stroke along a horizon, a treeline)."""


def undecided_edge(coarse: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``coarse`` with a strip along its sky edge set to 0.5 (undecided), and the strip (bool).

    The editor asks the detail stage about pixels it has left undecided (the edge-aware brush
    sets a stroke's pixels to 0.5, "Close gaps" a canopy's), so only the sure pixels around them
    build the colour models: the classifier learns that question here, not only the network's.
    """
    sky = (coarse > 0.5).astype(np.uint8)
    half_width = max(1, round(rng.uniform(*UNDECIDED_WIDTH) * max(coarse.shape)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * half_width + 1,) * 2)
    strip = cv2.dilate(sky, kernel) > cv2.erode(sky, kernel)
    return np.where(strip, np.float32(0.5), coarse).astype(np.float32), strip


def band_pixels(
    samples: list[TrainSample],
    method_name: str = "deeplab",
    per_image: int = 4000,
    weights: dict[str, float] | None = None,
    cache_dir: str | Path | None = None,
    seed: int = 0,
    progress: bool = True,
    undecided_per_image: int = 0,
) -> PixelSet:
    """Features and truth of up to ``per_image`` random band pixels of every sample, and of up
    to ``undecided_per_image`` pixels of a strip along its sky edge left undecided
    (:func:`undecided_edge`)."""
    from tqdm import tqdm

    method = get_method(method_name)
    cache = None if cache_dir is None else Path(cache_dir)
    rng = np.random.default_rng(seed)
    feats, targets, sample_weights = [], [], []
    for sample in tqdm(samples, desc="detail pixels", disable=not progress):
        image, coarse = coarse_of(sample, method, cache)
        target, valid = read_truth(sample)
        features = detail_features(image, coarse)
        draws = [(features, detail_band(features) & valid, per_image)]
        if undecided_per_image:
            undecided, strip = undecided_edge(coarse, rng)
            draws.append((detail_features(image, undecided), strip & valid, undecided_per_image))
        weight = (weights or {}).get(sample.dataset, 1.0)
        for planes, where, most in draws:
            chosen = np.flatnonzero(where.ravel())
            if chosen.size > most:
                chosen = rng.choice(chosen, most, replace=False)
            feats.append(planes.reshape(-1, len(FEATURE_NAMES))[chosen])
            targets.append(target.ravel()[chosen])
            sample_weights.append(np.full(chosen.size, weight, np.float32))
    return PixelSet(
        np.concatenate(feats).astype(np.float32),
        np.concatenate(targets).astype(np.float32),
        np.concatenate(sample_weights),
    )


def train_mlp(
    pixels: PixelSet,
    epochs: int = 8,
    batch: int = 4096,
    lr: float = 3e-3,
    seed: int = 0,
    l1_weight: float = 1.0,
    threads: int = 1,
    progress: bool = True,
):
    """A per-pixel MLP (``HIDDEN`` ReLU layers, one logit) fitted with weighted BCE on soft
    targets plus ``l1_weight`` times the L1 error of the sigmoid: BCE alone is calibrated, so
    it hedges with grey where foliage is ambiguous; L1 pulls towards the median (sharper)."""
    import torch
    from torch import nn
    from tqdm import tqdm

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    layers: list[nn.Module] = []
    width = pixels.features.shape[1]
    for hidden in HIDDEN:
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    layers.append(nn.Linear(width, 1))
    net = nn.Sequential(*layers)
    x = torch.from_numpy(pixels.features)
    y = torch.from_numpy(pixels.target)
    w = torch.from_numpy(pixels.weight)
    optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * ((len(x) + batch - 1) // batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=steps)
    generator = torch.Generator().manual_seed(seed)
    bar = tqdm(range(epochs), desc="detail MLP", disable=not progress)
    for _ in bar:
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), batch):
            index = order[start : start + batch]
            logit = net(x[index])[:, 0]
            alpha_error = (torch.sigmoid(logit) - y[index]).abs()
            bce = nn.functional.binary_cross_entropy_with_logits(logit, y[index], reduction="none")
            loss = ((bce + l1_weight * alpha_error) * w[index]).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(index)
        bar.set_postfix(loss=f"{total / len(x):.4f}")
    return net.eval()


def export_detail(
    net,
    path: str | os.PathLike,
    working_size: int,
    samples: list[TrainSample],
    extra: dict | None = None,
) -> Path:
    """Write the MLP (with a sigmoid) as ONNX with the metadata :class:`DetailModel` checks."""
    import onnx
    import torch

    class Alpha(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, features):
            return torch.sigmoid(self.inner(features))

    path = Path(path)
    example = torch.zeros(2, len(FEATURE_NAMES))
    torch.onnx.export(
        Alpha(net).eval(),
        (example,),
        str(path),
        input_names=["features"],
        output_names=["alpha"],
        dynamic_axes={"features": {0: "n"}, "alpha": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )
    model = onnx.load(str(path))
    meta = {
        "format": FORMAT,
        "feature_version": str(FEATURE_VERSION),
        "features": json.dumps(list(FEATURE_NAMES)),
        "working_size": str(working_size),
        "output": "alpha: float32 (N, 1), sky alpha in [0, 1] of each feature row",
        "training_data_sha256": data_hash(samples),
        "exported": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **{k: str(v) for k, v in (extra or {}).items()},
    }
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path
