"""``classifier``: basic binary classification of pixels into sky and not sky.

A gradient-boosted tree ensemble (scikit-learn ``HistGradientBoostingClassifier``, trained by
``scripts/train_classifier.py`` on the train split of the shared data) scores every pixel of
the photo at a small working size from colour, position, texture and context features
(:func:`sky_features`, the one feature function both training and inference use). The model
ships as ONNX (``assets/models/classifier.onnx``, pinned by SHA-256) and runs with
onnxruntime, so scikit-learn is not needed at run time. The model card is
``assets/models/classifier.md``.

Failure modes
-------------
- Each pixel is judged from its neighbourhood only: large smooth bright surfaces (white
  walls, snow fields, calm water reflecting the sky) can score as sky, and a dark night sky
  or a sky hidden by dense haze as ground.
- Thin structures (wires, antennas, bare branches) vanish at the working size; refinement
  brings only part of them back.
- Trained on research data (street scenes, webcams, fisheye, everyday photos); unusual
  cameras (infrared, heavily graded photos) fall outside what it has seen.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np

from ..errors import ModelFileError
from ..models import checked_model_file, is_model_available
from . import register
from ._base import SkyMethod
from ._common import fisheye_outside, gradient_magnitude, grey, local_std

MODEL_NAME = "classifier.onnx"
MODEL_ENV = "SKYSEG_CLASSIFIER_MODEL"
FEATURE_VERSION = 1

FEATURE_NAMES = (
    "r", "g", "b",
    "hue_cos_sat", "hue_sin_sat", "sat", "val",
    "lab_l", "lab_a", "lab_b",
    "row", "radius",
    "grad_1", "grad_3", "std_5", "std_15",
    "ctx_l", "ctx_a", "ctx_b", "ctx_grad",
    "above_max_grad", "above_mean_val", "below_mean_val",
    "top_lab_dist", "image_mean_val", "outside_fisheye",
)  # fmt: skip
"""Names of the columns :func:`sky_features` returns, in order."""


def sky_features(image: np.ndarray, context_sigma: float = 0.04) -> np.ndarray:
    """Per-pixel features for the sky classifier.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), float32 in [0, 1]
        RGB photo at the classifier's working size.
    context_sigma : float
        Blur of the context features, as a fraction of the longer side.

    Returns
    -------
    features : ndarray, shape (H, W, len(FEATURE_NAMES)), float32
        Colour (RGB, hue weighted by saturation, HSV saturation and value, Lab), position
        (row fraction, distance from the centre), texture (gradient magnitude at two blurs,
        local standard deviation in 5 and 15 px boxes), context (blurred Lab and gradient,
        strongest edge above the pixel in its column, mean brightness above and below it,
        Lab distance to the top band's colour, image brightness) and a fisheye-corner flag.
    """
    image = np.ascontiguousarray(image, dtype=np.float32)
    h, w = image.shape[:2]
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    hue = np.deg2rad(hsv[..., 0])
    sat, val = hsv[..., 1], hsv[..., 2]
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2Lab) / np.float32(100.0)
    gray = grey(image)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    row = yy / max(h - 1, 1)
    radius = np.hypot((yy - (h - 1) / 2) / max(h / 2, 1), (xx - (w - 1) / 2) / max(w / 2, 1))
    grad1 = gradient_magnitude(gray, 1.0)
    grad3 = gradient_magnitude(gray, 3.0)
    sigma = max(1.0, context_sigma * max(h, w))
    ctx_lab = cv2.GaussianBlur(lab, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    ctx_grad = cv2.GaussianBlur(grad1, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    above_max = np.maximum.accumulate(grad3, axis=0)
    cum = np.cumsum(val, axis=0)
    count = np.arange(1, h + 1, dtype=np.float32)[:, None]
    above_mean = cum / count
    below_mean = (cum[-1:] - cum + val) / (h - count + 1)
    band = lab[: max(1, h // 10)].reshape(-1, 3)
    top_dist = np.linalg.norm(lab - np.median(band, axis=0), axis=-1)
    outside = fisheye_outside(image)
    outside_f = np.zeros((h, w), np.float32) if outside is None else outside.astype(np.float32)
    columns = [
        image[..., 0], image[..., 1], image[..., 2],
        np.cos(hue) * sat, np.sin(hue) * sat, sat, val,
        lab[..., 0], lab[..., 1], lab[..., 2],
        row, radius,
        grad1, grad3, local_std(gray, 5), local_std(gray, 15),
        ctx_lab[..., 0], ctx_lab[..., 1], ctx_lab[..., 2], ctx_grad,
        above_max, above_mean, below_mean,
        top_dist, np.full((h, w), float(val.mean()), np.float32), outside_f,
    ]  # fmt: skip
    return np.stack(columns, axis=-1).astype(np.float32, copy=False)


class _OnnxModel:
    def __init__(self, path: Path):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = min(2, os.cpu_count() or 1)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelFileError(f"cannot load the classifier model ({exc})", path) from None
        meta = self.session.get_modelmeta().custom_metadata_map
        names = tuple(json.loads(meta.get("feature_names", "[]")))
        if names != FEATURE_NAMES:
            raise ModelFileError(
                "the classifier model was trained on other features than this skyseg computes; "
                "re-run scripts/train_classifier.py",
                path,
            )
        self.working_size = int(meta.get("working_size", 256))
        self.input = self.session.get_inputs()[0].name
        outputs = [o.name for o in self.session.get_outputs()]
        self.output = "probabilities" if "probabilities" in outputs else outputs[-1]

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        flat = features.reshape(-1, features.shape[-1])
        (proba,) = self.session.run([self.output], {self.input: flat})
        return np.asarray(proba, np.float32)[:, 1].reshape(features.shape[:2])


@register
class ClassifierMethod(SkyMethod):
    """Per-pixel gradient-boosted trees on colour, position, texture and context features.

    Parameters
    ----------
    model_path : path, optional
        An ONNX model to use instead of the bundled one (else ``$SKYSEG_CLASSIFIER_MODEL``,
        else ``assets/models/classifier.onnx``).
    working_size : int, optional
        Longer side at which features are computed; defaults to the size recorded in the model.
    """

    name = "classifier"
    description = "gradient-boosted per-pixel sky classifier on colour, position and texture (ONNX)"
    working_size = 256

    def __init__(
        self, model_path: str | os.PathLike | None = None, working_size: int | None = None
    ):
        path = checked_model_file(MODEL_NAME, explicit=model_path, env_var=MODEL_ENV)
        self._model = _OnnxModel(path)
        self.working_size = working_size or self._model.working_size

    @classmethod
    def available(cls) -> bool:
        return is_model_available(MODEL_NAME, env_var=MODEL_ENV)

    def predict(self, image: np.ndarray) -> np.ndarray:
        return self._model.predict_proba(sky_features(image))
