"""``color``: a sky colour model with a connectivity prior (placeholder, being extended)."""

from __future__ import annotations

import cv2
import numpy as np

from . import register
from ._base import SkyMethod


def color_sky_matte(image: np.ndarray) -> np.ndarray:
    """Sky probability from colour: blue or bright low-saturation pixels connected to the top."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    blue = (hue > 180) & (hue < 250) & (sat > 0.12) & (val > 0.3)
    grey = (sat < 0.12) & (val > 0.6)
    candidate = (blue | grey).astype(np.uint8)
    count, labels = cv2.connectedComponents(candidate, connectivity=4)
    top_labels = np.unique(labels[0][candidate[0] > 0])
    return np.isin(labels, top_labels).astype(np.float32)


@register
class ColorMethod(SkyMethod):
    name = "color"
    description = "sky colour model (blue, overcast, sunset) connected to the top of the frame"

    def predict(self, image: np.ndarray) -> np.ndarray:
        return color_sky_matte(image)
