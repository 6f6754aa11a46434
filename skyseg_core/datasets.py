"""Readers for sky data laid out as ``<dataset>/images/<id>.jpg`` + ``masks/<id>.png``
(255 sky, 0 not sky, 128 ignore) + optional ``mattes/<id>.png`` (soft truth) + optional
``canopy/<id>.png`` (255 where a region-level label calls a whole tree canopy not-sky, so sky
seen through its leaves is labelled 0), and the fixed train/validation split every script in
this project uses.

The split keeps correlated frames together: CamVid by video sequence, SkyFinder by camera
(across both SkyFinder folders); the other datasets by image, chosen by a stable hash so the
split never changes between runs or machines.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

IGNORE_LABEL = 128

VALIDATION_GROUPS = {
    "camvid": {"0006R0"},
    "skyfinder": {"684"},
}
"""Correlated groups held out whole for validation."""

VALIDATION_FRACTION = 0.25
"""Share of images held out in datasets without correlated frames."""


@dataclass(frozen=True)
class Sample:
    dataset: str
    id: str
    image: Path
    mask: Path
    matte: Path | None
    group: str
    canopy: Path | None = None

    @property
    def split(self) -> str:
        return split_of(self.dataset, self.group)


def group_of(dataset: str, sample_id: str) -> str:
    """The correlation group of a sample: sequence, camera, or the image itself."""
    if dataset.startswith("camvid"):
        parts = sample_id.split("_")
        return parts[1] if len(parts) > 2 else parts[0]
    if dataset.startswith("skyfinder"):
        return sample_id.split("_")[0]
    return sample_id


def split_of(dataset: str, group: str) -> str:
    """``"val"`` or ``"train"`` for a sample's group; fixed for the life of the project."""
    for prefix, groups in VALIDATION_GROUPS.items():
        if dataset.startswith(prefix):
            return "val" if group in groups else "train"
    bucket = zlib.crc32(f"{dataset}/{group}".encode()) % 1000
    return "val" if bucket < VALIDATION_FRACTION * 1000 else "train"


def find_samples(
    root: str | Path, split: str | None = None, datasets: list[str] | None = None
) -> list[Sample]:
    """List the samples under ``root`` (one dataset folder, or a folder of dataset folders).

    ``split`` is ``"train"``, ``"val"`` or ``None`` for all; ``datasets`` restricts by name.
    A folder or file that cannot be looked at raises :class:`InputError` naming it.
    """
    from .io import path_kind

    def listing(folder: Path) -> list[Path]:
        try:
            return sorted(folder.iterdir())
        except OSError as exc:
            raise InputError(f"cannot read the folder ({exc.strerror or exc})", folder) from None

    def present(path: Path) -> bool:
        return path_kind(path) != "missing"

    root = Path(root)
    folders = (
        [root]
        if path_kind(root / "images") == "folder"
        else [p for p in listing(root) if path_kind(p / "images") == "folder"]
    )
    samples = []
    for folder in folders:
        name = folder.name
        if datasets and name not in datasets:
            continue
        for image in listing(folder / "images"):
            mask = folder / "masks" / f"{image.stem}.png"
            if not present(mask):
                continue
            matte = folder / "mattes" / f"{image.stem}.png"
            canopy = folder / "canopy" / f"{image.stem}.png"
            sample = Sample(
                name,
                image.stem,
                image,
                mask,
                matte if present(matte) else None,
                group_of(name, image.stem),
                canopy if present(canopy) else None,
            )
            if split is None or sample.split == split:
                samples.append(sample)
    return samples
