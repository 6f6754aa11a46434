"""``ade20k``: the sky class of a scene parser trained on ADE20K (MIT Scene Parsing Benchmark).

Wraps two families of published ADE20K parsers, which the user downloads (nothing is
downloaded by skyseg and nothing ships with it); the matte is the softmax probability of the
"sky" class, never an argmax mask:

- MIT CSAIL's ``semantic-segmentation-pytorch`` (code BSD-3-Clause; weights trained on
  ADE20K, research terms; ``scripts/download_ade20k_weights.sh``): a folder holding
  ``encoder_epoch_<N>.pth`` and ``decoder_epoch_<N>.pth``, for example
  ``ade20k-mobilenetv2dilated-c1_deepsup/`` or ``ade20k-resnet50dilated-ppm_deepsup/``; sky is
  channel 2 of 150.
- TF DeepLab's DeepLabV3+ MobileNetV2 (weights Apache-2.0, trained on ADE20K) as its TFLite
  file (``deeplabv3-mobilenetv2-ade20k``, for example
  ``../shared/pretrained/deeplabv3plus_mnv2_ade20k/deeplabv3plus_mnv2_ade20k.tflite``), read
  without TensorFlow (:mod:`skyseg_core.train.tflite_reader`); sky is channel 3 of 151.

Where the weights are looked for: :func:`~skyseg_core.methods._ade20k_weights.find_ade20k_weights`
(``weights_dir=``, then ``$SKYSEG_ADE20K_DIR``, then ``assets/models/ade20k/``).

Two back ends: the ``.pth`` checkpoints and the ``.tflite`` file run with PyTorch
(``torch.load(..., weights_only=True)``; torch is imported only then, never at import time),
and an ONNX file written by ``skyseg export-ade20k`` (from either) runs with ONNX Runtime
without torch. A folder with both uses the checkpoints when torch is installed.

TF DeepLab preprocessing (as TF DeepLab evaluates): the photo's longer side is scaled to 513,
the image padded at the bottom and right to 513 x 513 with the mean grey, run at output
stride 8, and the padding cropped off the probability.

Preprocessing (as upstream): the photo is resized so its shorter side is ``short_side`` (the
upstream models were trained with shorter sides 300-600) and its longer side at most
``max_long_side``, padded by edge replication to a multiple of 8 (the encoders' output stride),
run, and the padding cropped off. Normalisation (ImageNet mean and std on RGB in [0, 1]),
upsampling of the class logits to the working size and the softmax are part of the network
(and of the exported ONNX graph).

Failure modes: the parser knows 150 classes, and everything it has not learned as "sky"
(bright haze, some window reflections) splits probability between classes, so sky
probabilities below 1 are common along horizons; small models (MobileNetV2 + C1) blur thin
structures at output stride 8.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .._threads import compute_threads
from ..errors import ModelFileError
from ..matte import as_matte, check_image, check_matte, resize_matte, to_float_rgb
from ..models import onnx_session
from . import register
from ._ade20k_weights import ENV_VAR, Ade20kWeights, find_ade20k_weights, torch_installed
from ._base import SkyMethod, resize_long_side

SKY_CHANNEL = 2
NUM_CLASSES = 150
DEFAULT_SHORT_SIDE = 384
DEFAULT_MAX_LONG_SIDE = 1000
PAD_MULTIPLE = 8

ONNX_KIND = "skyseg-ade20k-sky"
"""Value of the ``kind`` metadata entry of exported ONNX files."""

TF_DEEPLAB = "tf-deeplab"
"""``preprocess`` metadata of the TF DeepLab back ends (see the module docstring)."""
TF_DEEPLAB_SIZE = 513
TF_DEEPLAB_SKY_CHANNEL = 3


def resize_short_side(image: np.ndarray, short_side: int, max_long_side: int) -> np.ndarray:
    """Resize so the shorter side is ``short_side`` and the longer at most ``max_long_side``."""
    h, w = image.shape[:2]
    scale = min(short_side / min(h, w), max_long_side / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if size == (w, h):
        return image
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interp)


def sky_probability(image: np.ndarray, run, multiple: int = PAD_MULTIPLE) -> np.ndarray:
    """Sky probability of a float32 RGB image at its own size.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), float32 in [0, 1]
        RGB photo at the network's working size.
    run : callable
        Maps a ``(1, 3, H', W')`` float32 array (H', W' multiples of ``multiple``) to the
        ``(H', W')`` sky probability (see :class:`Ade20kMethod`'s back ends).
    multiple : int
        Pad height and width (edge replication) to a multiple of this; cropped off after.

    Returns
    -------
    matte : ndarray, shape (H, W), float32 in [0, 1]
    """
    h, w = image.shape[:2]
    pad_h, pad_w = -h % multiple, -w % multiple
    padded = cv2.copyMakeBorder(
        np.ascontiguousarray(image, np.float32), 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE
    )
    batch = np.ascontiguousarray(padded.transpose(2, 0, 1)[None])
    prob = np.asarray(run(batch), dtype=np.float32).reshape(h + pad_h, w + pad_w)
    return as_matte(prob[:h, :w])


class TorchBackend:
    """Runs the upstream ``.pth`` checkpoints with PyTorch (imported here, not before)."""

    def __init__(self, encoder: Path, decoder: Path, arch: str | None = None):
        try:
            import torch  # noqa: F401  (a clear error before the heavier import below)
        except ImportError:
            raise ModelFileError(
                "ADE20K .pth checkpoints need PyTorch (pip install 'skyseg[train]'), or export "
                "them once to ONNX with `skyseg export-ade20k` on a machine that has it",
                encoder.parent,
            ) from None
        from .._ade20k_arch import load_sky_model

        try:
            self.model, self.arch = load_sky_model(encoder, decoder, arch)
        except Exception as exc:  # corrupt, truncated, foreign or unsafe (non-tensor) pickles
            raise ModelFileError(
                f"cannot load the ADE20K checkpoints {encoder.name} / {decoder.name} "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'})",
                encoder.parent,
            ) from None
        self.metadata: dict[str, str] = {}

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.model(torch.from_numpy(batch))[0].numpy()


class TFLiteBackend:
    """Runs TF DeepLab's ADE20K ``.tflite`` file, rebuilt in PyTorch (needs the ``train`` extra)."""

    metadata = {"preprocess": TF_DEEPLAB, "input_size": str(TF_DEEPLAB_SIZE)}

    def __init__(self, path: Path):
        try:
            import tflite  # noqa: F401  (clear errors before the heavier imports below)
            import torch  # noqa: F401
        except ImportError:
            raise ModelFileError(
                "TF DeepLab .tflite files need PyTorch and the tflite package (pip install "
                "'skyseg[train]'), or export them once to ONNX with `skyseg export-ade20k`",
                path,
            ) from None
        from ..train.deeplab import ZeroShotSky, load_ade20k_deeplab

        try:
            self.model = ZeroShotSky(load_ade20k_deeplab(path)).eval()
        except Exception as exc:  # a damaged or foreign flatbuffer
            raise ModelFileError(
                f"cannot read the TF DeepLab ADE20K file ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else 'no detail'})",
                path,
            ) from None
        self.arch = "tf-deeplabv3plus-mobilenetv2"

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.model(torch.from_numpy(batch))[0].numpy()


class OnnxBackend:
    """Runs an ONNX file written by ``skyseg export-ade20k`` with ONNX Runtime."""

    def __init__(self, path: Path):
        # 0: ONNX Runtime's own choice of threads, within the share compute_threads gives
        self.session = onnx_session(path, "ADE20K ONNX model", compute_threads(0))
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)
        if self.metadata.get("kind") != ONNX_KIND:
            raise ModelFileError(
                f"not an ADE20K sky model written by `skyseg export-ade20k` (metadata kind is "
                f"{self.metadata.get('kind')!r}, expected {ONNX_KIND!r})",
                path,
            )
        self.arch = self.metadata.get("arch", "unknown")
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: batch})[0][0]


def load_backend(weights: Ade20kWeights, arch: str | None = None):
    """The callable that runs ``weights`` (see :func:`sky_probability`)."""
    if weights.kind == "onnx":
        return OnnxBackend(weights.paths[0])
    if weights.kind == "tflite":
        return TFLiteBackend(weights.paths[0])
    return TorchBackend(weights.paths[0], weights.paths[1], arch)


def tf_deeplab_probability(image: np.ndarray, run, size: int = TF_DEEPLAB_SIZE) -> np.ndarray:
    """Sky probability of a float32 RGB image in [0, 1] with TF DeepLab's preprocessing.

    The longer side is scaled to ``size``, the image padded (bottom, right) to ``size`` x
    ``size`` with the mean grey (0 after TF's scaling), ``run`` (see :func:`sky_probability`)
    applied, the padding cropped off; the probability comes back at the scaled size.
    """
    h, w = image.shape[:2]
    scale = size / max(h, w)
    sh, sw = min(size, max(1, round(h * scale))), min(size, max(1, round(w * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    work = np.ascontiguousarray(image, np.float32)
    if (sw, sh) != (w, h):  # the method hands over photos already shrunk to ``size``
        work = cv2.resize(work, (sw, sh), interpolation=interp)
    padded = np.full((size, size, 3), 0.5, np.float32)
    padded[:sh, :sw] = work.reshape(sh, sw, 3)
    prob = np.asarray(run(np.ascontiguousarray(padded.transpose(2, 0, 1)[None])), np.float32)
    return as_matte(prob.reshape(size, size)[:sh, :sw])


@register
class Ade20kMethod(SkyMethod):
    """ADE20K scene parser's sky probability (see the module docstring).

    Parameters
    ----------
    weights_dir : path, optional
        Checkpoint folder, folder of model folders, or exported ``.onnx`` file; default
        ``$SKYSEG_ADE20K_DIR``, else ``assets/models/ade20k/``.
    short_side : int or sequence of int, optional
        Shorter side of the working image (default 384, or the value recorded in an ONNX file).
        Several sizes (upstream tests with 300, 375, 450, 525, 600) average the probabilities
        over those scales, at the cost of one network run each.
    max_long_side : int, optional
        Cap on the working image's longer side (default 1000).
    arch : str, optional
        ``"<encoder>-<decoder>"``, e.g. ``"resnet50dilated-ppm_deepsup"``; by default read from
        the checkpoints' parameter names.
    """

    name = "ade20k"
    description = (
        "ADE20K scene parser (CSAIL or TF DeepLab weights you download; SKYSEG_ADE20K_DIR): "
        "sky-class probability"
    )

    def __init__(
        self,
        weights_dir=None,
        short_side: int | tuple[int, ...] | None = None,
        max_long_side: int | None = None,
        arch: str | None = None,
    ):
        self.weights_dir = weights_dir
        self.short_side = short_side
        self.max_long_side = max_long_side
        self.arch = arch
        self._backend = None

    @classmethod
    def available(cls) -> bool:
        try:
            weights = find_ade20k_weights()
        except ModelFileError:
            return False
        return weights.kind == "onnx" or torch_installed()

    @property
    def backend(self):
        if self._backend is None:
            self._backend = load_backend(find_ade20k_weights(self.weights_dir), self.arch)
        return self._backend

    def _sizes(self) -> tuple[tuple[int, ...], int]:
        meta = self.backend.metadata
        short = self.short_side
        if short is None:
            short = int(meta.get("short_side", DEFAULT_SHORT_SIDE))
        shorts = (
            (int(short),)
            if isinstance(short, int | float | np.number)
            else tuple(int(v) for v in short)
        )
        if not shorts or min(shorts) < 1:
            raise ValueError(f"short_side must be a positive size or a list of them, got {short!r}")
        long = self.max_long_side or int(meta.get("max_long_side", DEFAULT_MAX_LONG_SIDE))
        return shorts, max(long, *shorts)

    def predict(self, image: np.ndarray) -> np.ndarray:
        multiple = int(self.backend.metadata.get("pad_multiple", PAD_MULTIPLE))
        return sky_probability(image, self.backend, multiple)

    def coarse(self, image: np.ndarray) -> np.ndarray:
        """Sky probability at the working size (shorter side ``short_side``, the first one when
        several are given; TF DeepLab: longer side 513), or at the image's size when that is
        smaller."""
        check_image(image)
        if self.backend.metadata.get("preprocess") == TF_DEEPLAB:
            size = int(self.backend.metadata.get("input_size", TF_DEEPLAB_SIZE))
            # shrink in the stored dtype first: a 12 MP photo never becomes float32
            matte = tf_deeplab_probability(
                to_float_rgb(resize_long_side(image, size)), self.backend, size
            )
            if matte.size > image.shape[0] * image.shape[1]:
                matte = resize_matte(matte, image.shape[:2])
            return check_matte(matte)
        shorts, long = self._sizes()
        rgb = to_float_rgb(image)
        work = resize_short_side(rgb, shorts[0], long)
        matte = as_matte(self.predict(work))
        for short in shorts[1:]:  # upstream's multi-scale testing: mean probability over scales
            matte += resize_matte(
                as_matte(self.predict(resize_short_side(rgb, short, long))), matte.shape
            )
        if len(shorts) > 1:
            matte = as_matte(matte / np.float32(len(shorts)))
        if work.shape[0] * work.shape[1] > image.shape[0] * image.shape[1]:
            matte = resize_matte(matte, image.shape[:2])
        return check_matte(matte)

    def __repr__(self) -> str:
        return f"Ade20kMethod(weights_dir={self.weights_dir!r})"


__all__ = [
    "ENV_VAR",
    "ONNX_KIND",
    "Ade20kMethod",
    "find_ade20k_weights",
    "resize_short_side",
    "sky_probability",
    "tf_deeplab_probability",
]
