"""Training data: readers for three layouts, a pre-resized cache, and the training-data hash.

Readers (each returns :class:`TrainSample` records with a fixed ``split``):

* :func:`shared_layout_samples`: the project layout (``<dataset>/images``, ``masks`` with 255 sky,
  0 not sky, 128 ignore, optional soft ``mattes``), split by :mod:`skyseg_core.datasets`
  (correlated frames kept together; the validation split is never trained on);
* :func:`folder_pair_samples`: any folder of images plus a folder of masks with the same stems
  (same mask convention), split by a stable hash of the id;
* :func:`ade20k_samples`: ADE20K's ``ADEChallengeData2016`` (``images/{training,validation}``,
  ``annotations/...``; annotation value 3 = sky, 0 = unlabelled = ignore); its own
  ``validation`` folder is the validation split.

:func:`build_cache` decodes every sample once, shrinks it to ``long_side`` and stores image,
target (sky probability 0..255) and validity (0 = ignore) as ``.npz`` files, so CPU epochs
read small arrays instead of decoding JPEGs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from ..datasets import IGNORE_LABEL, find_samples, split_of
from ..depth import to_codes, to_float
from ..errors import InputError
from ..io import IMAGE_SUFFIXES, load_image
from ..matte import to_uint8_rgb

ADE20K_SKY = 3
"""ADE20K (SceneParsing, 150 classes) annotation value of ``sky`` (class index 2 + 1)."""

ENCODINGS = ("skyseg", "ade20k")


@dataclass(frozen=True)
class TrainSample:
    """One image with its truth. ``encoding`` says how the mask file is read."""

    dataset: str
    id: str
    image: str
    mask: str
    matte: str | None
    split: str
    encoding: str = "skyseg"
    canopy: str | None = None


def shared_layout_samples(
    root: str | Path, split: str | None = None, datasets: list[str] | None = None
) -> list[TrainSample]:
    """Samples of the project's shared layout (one dataset folder or a folder of them)."""
    return [
        TrainSample(
            s.dataset,
            s.id,
            str(s.image),
            str(s.mask),
            None if s.matte is None else str(s.matte),
            s.split,
            canopy=None if s.canopy is None else str(s.canopy),
        )
        for s in find_samples(root, split=split, datasets=datasets)
    ]


def folder_pair_samples(
    images: str | Path, masks: str | Path, name: str | None = None, split: str | None = None
) -> list[TrainSample]:
    """Image/mask pairs matched by file stem; masks use 255 sky, 0 not sky, 128 ignore."""
    images, masks = Path(images), Path(masks)
    if not images.is_dir() or not masks.is_dir():
        raise InputError(
            "expected an images folder and a masks folder", images if not images.is_dir() else masks
        )
    name = name or images.parent.name or images.name
    by_stem = {p.stem: p for p in masks.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    out = []
    for image in sorted(p for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        mask = by_stem.get(image.stem)
        if mask is None:
            continue
        sample = TrainSample(
            name, image.stem, str(image), str(mask), None, split_of(name, image.stem)
        )
        if split is None or sample.split == split:
            out.append(sample)
    return out


def ade20k_samples(root: str | Path, split: str | None = None) -> list[TrainSample]:
    """Samples of ADE20K's ``ADEChallengeData2016`` folder (``training`` = train, ``validation`` = val)."""
    root = Path(root)
    if (root / "ADEChallengeData2016").is_dir():
        root = root / "ADEChallengeData2016"
    if not (root / "images").is_dir() or not (root / "annotations").is_dir():
        raise InputError(
            "not an ADEChallengeData2016 folder (expected images/ and annotations/)", root
        )
    out = []
    for folder, name in (("training", "train"), ("validation", "val")):
        if split is not None and split != name:
            continue
        image_dir = root / "images" / folder
        if not image_dir.is_dir():
            continue
        for image in sorted(image_dir.glob("*.jpg")):
            mask = root / "annotations" / folder / f"{image.stem}.png"
            if mask.exists():
                out.append(
                    TrainSample("ade20k", image.stem, str(image), str(mask), None, name, "ade20k")
                )
    return out


def collect_samples(data: dict, split: str | None = None) -> list[TrainSample]:
    """All samples named by a config's ``[data]`` table (``root``, ``ade20k_root``, ``folders``)."""
    samples: list[TrainSample] = []
    if data.get("root"):
        samples += shared_layout_samples(
            data["root"], split=split, datasets=data.get("datasets") or None
        )
    if data.get("ade20k_root"):
        samples += ade20k_samples(data["ade20k_root"], split=split)
    for folder in data.get("folders", []):
        samples += folder_pair_samples(
            folder["images"], folder["masks"], folder.get("name"), split=split
        )
    return samples


def read_truth(sample: TrainSample) -> tuple[np.ndarray, np.ndarray]:
    """(target, valid) at the image's size: target float32 sky probability in [0, 1]
    (the soft matte where one exists), valid bool (False = ignore).

    Canopy pixels (the sample's canopy map) that the mask calls not-sky are left out: their
    label says nothing about the sky seen between the leaves."""
    raw = cv2.imread(sample.mask, cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise InputError("cannot read mask", sample.mask)
    if raw.ndim == 3:
        raw = raw[..., 0]
    if sample.encoding == "ade20k":
        valid = raw != 0
        target = (raw == ADE20K_SKY).astype(np.float32)
    else:
        valid = raw != IGNORE_LABEL
        target = (raw > IGNORE_LABEL).astype(np.float32)
        if sample.matte:
            matte = cv2.imread(sample.matte, cv2.IMREAD_GRAYSCALE)
            if matte is not None and matte.shape == raw.shape:
                target = to_float(matte)
        if sample.canopy:
            canopy = cv2.imread(sample.canopy, cv2.IMREAD_GRAYSCALE)
            if canopy is None or canopy.shape != raw.shape:
                raise InputError(
                    "cannot read canopy map or its size differs from the mask", sample.canopy
                )
            valid &= ~((canopy > 127) & (target < 0.5))
    return target, valid


def _shrink(array: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    return (
        array
        if array.shape[1::-1] == size
        else cv2.resize(array, size, interpolation=interpolation)
    )


def load_pair(sample: TrainSample, long_side: int | None = None) -> dict:
    """Image (uint8 RGB), target (uint8 0..255) and valid (uint8 0/1), shrunk to ``long_side``."""
    image = to_uint8_rgb(load_image(sample.image))
    target, valid = read_truth(sample)
    if target.shape != image.shape[:2]:
        raise InputError(
            f"mask is {target.shape[1]}x{target.shape[0]}, image is {image.shape[1]}x{image.shape[0]}",
            sample.mask,
        )
    h, w = image.shape[:2]
    if long_side and max(h, w) > long_side:
        scale = long_side / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        image = _shrink(image, size, cv2.INTER_AREA)
        target = _shrink(target, size, cv2.INTER_AREA)
        valid = _shrink(valid.astype(np.float32), size, cv2.INTER_AREA) > 0.999
    return {
        "image": image,
        "target": to_codes(target, np.uint8),
        "valid": valid.astype(np.uint8),
    }


def data_hash(samples: list[TrainSample]) -> str:
    """SHA-256 over every sample's split, name and file bytes: names the exact training data."""
    digest = hashlib.sha256()
    for s in sorted(samples, key=lambda s: (s.dataset, s.id)):
        digest.update(f"{s.dataset}/{s.id}/{s.split}/{s.encoding}\n".encode())
        for path in (s.image, s.mask, s.matte, s.canopy):
            if path:
                digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def build_cache(
    samples: list[TrainSample], cache_dir: str | Path, long_side: int, progress: bool = True
) -> list[Path]:
    """Pre-resize ``samples`` into ``cache_dir`` once; returns one ``.npz`` path per sample.

    Files are keyed by the sample and ``long_side``; existing ones are reused, so a resumed or
    repeated run decodes nothing.
    """
    from tqdm import tqdm

    cache_dir = Path(cache_dir) / f"long{long_side}"
    paths = []
    for sample in tqdm(samples, desc="cache", unit="img", disable=not progress):
        key = hashlib.sha1(json.dumps(asdict(sample), sort_keys=True).encode()).hexdigest()[:12]
        path = cache_dir / sample.dataset / f"{sample.id}-{key}.npz"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            arrays = load_pair(sample, long_side)
            tmp = path.with_name(path.stem + ".tmp.npz")
            np.savez(tmp, **arrays)
            tmp.replace(path)
        paths.append(path)
    return paths


def load_cached(path: str | Path) -> dict:
    with np.load(path) as data:
        return {k: data[k] for k in ("image", "target", "valid")}
