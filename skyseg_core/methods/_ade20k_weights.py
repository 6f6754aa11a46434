"""Where the ``ade20k`` method finds its weights, which the user downloads (nothing is
downloaded by skyseg and nothing ships with it).

Where the weights are looked for (first that is given wins; no fallback past a given one):

1. ``weights_dir=`` (a checkpoint folder, a folder of such folders, a ``.tflite`` file or a
   folder holding one, or an ``.onnx`` file),
2. the environment variable ``SKYSEG_ADE20K_DIR`` (same forms),
3. ``assets/models/ade20k/`` (or ``$SKYSEG_MODELS_DIR/ade20k``).
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelFileError
from ..models import models_dir

ENV_VAR = "SKYSEG_ADE20K_DIR"
"""Environment variable naming the weights folder (or ``.onnx`` file)."""

DOWNLOAD_URL = "http://sceneparsing.csail.mit.edu/model/pytorch/"
"""Where the CSAIL models are published: ``<DOWNLOAD_URL><name>/encoder_epoch_<N>.pth``."""

MODEL_PREFERENCE = (
    "ade20k-resnet50dilated-ppm_deepsup",
    "ade20k-resnet101dilated-ppm_deepsup",
    "ade20k-resnet18dilated-ppm_deepsup",
    "ade20k-mobilenetv2dilated-c1_deepsup",
)
"""Which model folder to use when the folder given holds several (best first)."""

_CHECKPOINT = re.compile(r"^(encoder|decoder)_epoch_(\d+)\.pth$")


def default_dir() -> Path:
    """The bundled-models location of the ADE20K weights: ``<models dir>/ade20k``."""
    return models_dir() / "ade20k"


@dataclass(frozen=True)
class Ade20kWeights:
    """Weights found on disk: ``kind`` is ``"torch"`` (``paths`` = encoder, decoder) or ``"onnx"``."""

    kind: str
    paths: tuple[Path, ...]
    """``"torch"`` (CSAIL encoder, decoder), ``"tflite"`` (TF DeepLab file) or ``"onnx"``."""

    @property
    def folder(self) -> Path:
        return self.paths[0].parent


def torch_installed() -> bool:
    return importlib.util.find_spec("torch") is not None


def _checkpoint_pair(folder: Path) -> tuple[Path, Path] | None:
    """The encoder/decoder files of the highest epoch present in both, or None."""
    epochs: dict[str, set[int]] = {"encoder": set(), "decoder": set()}
    for entry in folder.iterdir():
        match = _CHECKPOINT.match(entry.name)
        if match and entry.is_file():
            epochs[match.group(1)].add(int(match.group(2)))
    common = epochs["encoder"] & epochs["decoder"]
    if not common:
        return None
    n = max(common)
    return folder / f"encoder_epoch_{n}.pth", folder / f"decoder_epoch_{n}.pth"


def _onnx_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.onnx") if p.is_file())


def _weights_in(place: Path) -> Ade20kWeights | None:
    """Usable weights at ``place`` (file or folder, one level of model sub-folders), or None."""
    if place.is_file():
        if place.suffix.lower() == ".onnx":
            return Ade20kWeights("onnx", (place,))
        if place.suffix.lower() == ".tflite":
            return Ade20kWeights("tflite", (place,))
        if _CHECKPOINT.match(place.name):
            return _weights_in(place.parent)
        return None
    if not place.is_dir():
        return None
    pair = _checkpoint_pair(place)
    onnx_files = _onnx_files(place)
    if pair and (torch_installed() or not onnx_files):
        return Ade20kWeights("torch", pair)
    tflite_files = sorted(p for p in place.glob("*.tflite") if p.is_file())
    if tflite_files and (torch_installed() or not onnx_files):
        return Ade20kWeights("tflite", (tflite_files[0],))
    if onnx_files:
        return Ade20kWeights("onnx", (onnx_files[0],))
    subfolders = sorted((p for p in place.iterdir() if p.is_dir()), key=lambda p: p.name)
    rank = {name: i for i, name in enumerate(MODEL_PREFERENCE)}
    subfolders.sort(key=lambda p: rank.get(p.name, rank.get(f"ade20k-{p.name}", len(rank))))
    for sub in subfolders:
        pair = _checkpoint_pair(sub)
        if pair:
            return Ade20kWeights("torch", pair)
    return None


def _expected_hint(tried: list[str]) -> str:
    return (
        f"tried: {'; '.join(tried)}. Expected a folder holding encoder_epoch_<N>.pth and "
        f"decoder_epoch_<N>.pth (for example encoder_epoch_20.pth and decoder_epoch_20.pth of "
        f"ade20k-mobilenetv2dilated-c1_deepsup or ade20k-resnet50dilated-ppm_deepsup from "
        f"{DOWNLOAD_URL}<name>/; scripts/download_ade20k_weights.sh fetches them), a folder of "
        f"such model folders, TF DeepLab's deeplabv3-mobilenetv2-ade20k .tflite file, or an "
        f".onnx file written by `skyseg export-ade20k`. Point skyseg "
        f"at it with weights_dir=, ${ENV_VAR}, or put it in {default_dir()}"
    )


def find_ade20k_weights(weights_dir: str | os.PathLike | None = None) -> Ade20kWeights:
    """Locate ADE20K weights: ``weights_dir``, then ``$SKYSEG_ADE20K_DIR``, then the assets folder.

    Raises
    ------
    ModelFileError
        Nothing usable; the message names the folder(s) looked at and the files expected, and
        ``tried`` lists them.
    """
    tried: list[str] = []
    if weights_dir is not None:
        place, origin = Path(weights_dir).expanduser(), "given explicitly"
    elif os.environ.get(ENV_VAR):
        place, origin = Path(os.environ[ENV_VAR]).expanduser(), f"from ${ENV_VAR}"
    else:
        tried.append(f"${ENV_VAR} (not set)")
        place, origin = default_dir(), "the default folder"
    tried.append(str(place))
    try:
        found = _weights_in(place)
    except OSError as exc:  # an unreadable folder
        raise ModelFileError(
            f"cannot read this path ({origin}): {exc.strerror or exc}", place, tried=tried
        ) from None
    if found is not None:
        return found
    state = "does not exist" if not place.exists() else "holds no ADE20K weights"
    raise ModelFileError(
        f"no ADE20K weights: this path ({origin}) {state}; {_expected_hint(tried)}",
        place,
        tried=tried,
    )
