"""``unet``: the sky U-Net trained by ``skyseg train``, run with ONNX Runtime.

The network (segmentation-models-pytorch U-Net with a MobileNetV3-small encoder, trained from
scratch on the shared sky data with sky compositing; see ``assets/models/sky_unet.md``) ships as
``assets/models/sky_unet.onnx``, pinned by SHA-256. Its preprocessing (mean, std, divisor,
working size) is read from the model's metadata, never repeated here. The photo is shrunk to
the working size (a smaller one is run at its own size unless ``enlarge_small``), padded to the
divisor, run, cropped back; the sigmoid probability is returned as is (never min-max
stretched, never thresholded), so refinement can shape it.

Failure modes
-------------
- Trained on a few thousand research photos: street scenes, webcams, fisheye shots and
  everyday photos. Unusual photos (aerial views, underwater, heavy graphics, paintings)
  are outside what it has seen.
- Thin structures (wires, bare branches) are finer than its working size; refinement brings
  part of them back.
- Smooth blue or white surfaces at the top of the frame (walls, water reflecting the sky,
  snow against an overcast sky) can score as sky.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .._threads import compute_threads
from ..errors import ModelFileError
from ..matte import as_matte, check_image, check_matte, resize_matte, to_float_rgb
from ..models import (
    checked_model_file,
    is_model_available,
    onnx_session,
    resolve_model_file,
    sha256_of,
)
from . import register
from ._base import SkyMethod, resize_long_side
from .classifier import MODEL_ENV as CLASSIFIER_ENV
from .classifier import MODEL_NAME as CLASSIFIER_MODEL
from .classifier import ClassifierMethod

MODEL_NAME = "sky_unet.onnx"
MODEL_ENV = "SKYSEG_UNET_MODEL"
FORMAT = "skyseg-sky-unet/1"
FLIP_AVERAGE = False
"""Default of ``flip_average`` (see the model card for what it buys)."""
ENLARGE_SMALL = False
"""Default of ``enlarge_small``: off, as it loses close crops (docs/video.md, Steady mattes)."""


class _UnetSession:
    """An ONNX Runtime session plus the preprocessing recorded in the model's metadata."""

    def __init__(self, path: Path, threads: int | None = None):
        # no busy-waiting: the network runs once per photo, and threads spinning after it take
        # the cores from the detail stage and the refinement (same output either way)
        self.session = onnx_session(
            path,
            "sky U-Net model",
            threads or compute_threads(min(4, os.cpu_count() or 1)),
            spinning=False,
        )
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get("format") != FORMAT:
            raise ModelFileError(
                f"not a skyseg sky U-Net model (metadata format {meta.get('format')!r}, expected {FORMAT!r}); "
                "export one with `skyseg export CHECKPOINT`",
                path,
            )
        try:
            self.mean = np.array(json.loads(meta["mean"]), np.float32)
            self.std = np.array(json.loads(meta["std"]), np.float32)
            self.divisor = int(meta["divisor"])
            self.working_size = int(meta["working_size"])
        except (KeyError, ValueError) as exc:
            raise ModelFileError(f"sky U-Net model metadata is incomplete ({exc})", path) from None
        self.metadata = dict(meta)
        self.input = self.session.get_inputs()[0].name
        self.output = self.session.get_outputs()[0].name
        self.prior = _prior_method(meta, path) if meta.get("prior") else None

    def probability(self, image: np.ndarray) -> np.ndarray:
        """Sky probability of a float32 RGB image in [0, 1] at its own size (pad, run, crop)."""
        h, w = image.shape[:2]
        x = (image - self.mean) / self.std
        if self.prior is not None:
            prior = resize_matte(
                self.prior.predict(resize_long_side(image, self.prior.working_size)), (h, w)
            )
            x = np.concatenate([x, prior_channel(prior)[..., None]], axis=2)
        ph, pw = (-h) % self.divisor, (-w) % self.divisor
        if ph or pw:
            x = np.pad(
                x, ((0, ph), (0, pw), (0, 0)), mode="reflect" if ph < h and pw < w else "edge"
            )
        x = np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)
        (prob,) = self.session.run([self.output], {self.input: x})
        return np.asarray(prob[0, 0, :h, :w], np.float32)


def prior_channel(probability: np.ndarray) -> np.ndarray:
    """The network's fourth input from a prior sky probability in [0, 1]: scaled to [-1, 1]."""
    return 2 * probability - 1


def _prior_method(meta: dict, path: Path):
    """The method that computes the model's fourth input channel, checked against the file the
    model was trained with (another classifier would feed it inputs it never learned)."""
    if meta["prior"] != "classifier":
        raise ModelFileError(
            f"the sky U-Net model needs an unknown prior {meta['prior']!r}; update skyseg", path
        )
    prior = ClassifierMethod()
    expected = meta.get("prior_model_sha256", "")
    actual = sha256_of(resolve_model_file(CLASSIFIER_MODEL, env_var=CLASSIFIER_ENV))
    if expected and actual != expected:
        raise ModelFileError(
            f"the sky U-Net model was trained on the priors of classifier model {expected[:12]}..., but the "
            f"classifier model in use is {actual[:12]}...; use the classifier it was trained with or retrain "
            "(`skyseg train`)",
            path,
        )
    return prior


@register
class UnetMethod(SkyMethod):
    """The trained sky U-Net (ONNX); half of ``blend``.

    Parameters
    ----------
    model_path : path, optional
        An exported model to use instead of the bundled one (else ``$SKYSEG_UNET_MODEL``,
        else ``assets/models/sky_unet.onnx``).
    working_size : int, optional
        Longer side the photo is shrunk to before the network; default: the model's recorded size.
    threads : int, optional
        ONNX Runtime intra-op threads (default: up to 4).
    flip_average : bool
        Also run the mirrored photo and average the two probabilities (test-time augmentation:
        twice the network time, steadier mattes).
    enlarge_small : bool
        Enlarge a photo smaller than the working size to it (bilinear) for the network and
        shrink the probability back: a whole scene shot small is then seen at the scale the
        network learned (``deeplab``: +0.007 IoU on the validation photos at 200 px), but a
        close crop is seen closer still (a grainy sky 200 px wide is lost as a whole).
    """

    name = "unet"
    description = "sky U-Net (MobileNetV3 encoder) trained on the shared sky data, ONNX Runtime"
    working_size = 320
    model_name = MODEL_NAME
    model_env = MODEL_ENV

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        working_size: int | None = None,
        threads: int | None = None,
        flip_average: bool = FLIP_AVERAGE,
        enlarge_small: bool = ENLARGE_SMALL,
    ):
        path = checked_model_file(self.model_name, explicit=model_path, env_var=self.model_env)
        self._session = _UnetSession(path, threads)
        self.working_size = working_size or self._session.working_size
        self.flip_average = flip_average
        self.enlarge_small = enlarge_small

    @property
    def metadata(self) -> dict:
        """The model file's metadata (preprocessing, versions, training-data hash, ...)."""
        return dict(self._session.metadata)

    @classmethod
    def available(cls) -> bool:
        return is_model_available(cls.model_name, env_var=cls.model_env)

    def coarse(self, image: np.ndarray) -> np.ndarray:
        """The sky probability at the working size, or at the photo's size if it is smaller.

        Shrinks the stored integers first and converts only the small image to float (a 12 MP
        photo's float copy alone costs more than the network).
        """
        check_image(image)
        small = to_float_rgb(resize_long_side(image, self.working_size))
        if self.enlarge_small and max(small.shape[:2]) < self.working_size:
            # the network learned whole scenes at the working size (stride 16: a 200x150
            # photo gets a 13x10 output grid at its own size)
            enlarged = resize_long_side(small, self.working_size, enlarge=True)
            prob = resize_matte(as_matte(self.predict(enlarged)), small.shape[:2])
        else:
            prob = as_matte(self.predict(small))
        return check_matte(prob, small.shape[:2])

    def predict(self, image: np.ndarray) -> np.ndarray:
        prob = self._session.probability(image)
        if self.flip_average:
            prob = 0.5 * (
                prob + self._session.probability(np.ascontiguousarray(image[:, ::-1]))[:, ::-1]
            )
        return prob
