"""numpy arrays to QImage (copies, so the array may be freed), and back."""

from __future__ import annotations

import numpy as np
from PyQt6.QtGui import QImage

OVERLAY_RGB = (255, 40, 150)
"""The matte overlay's colour: a magenta that stands out against blue, grey and sunset skies."""


def rgb_to_qimage(image: np.ndarray) -> QImage:
    image = np.ascontiguousarray(image, dtype=np.uint8)
    h, w = image.shape[:2]
    return QImage(image.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def grey_to_qimage(matte: np.ndarray) -> QImage:
    grey = np.ascontiguousarray(np.round(np.clip(matte, 0, 1) * 255).astype(np.uint8))
    h, w = grey.shape
    return QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


def overlay_qimage(matte: np.ndarray, rgb: tuple[int, int, int] = OVERLAY_RGB) -> QImage:
    h, w = matte.shape
    rgba = np.empty((h, w, 4), np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = np.round(np.clip(matte, 0, 1) * 255)
    return QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


def qimage_to_rgb(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = image.height(), image.width()
    ptr = image.constBits()
    ptr.setsize(image.sizeInBytes())
    rows = np.frombuffer(ptr, np.uint8).reshape(h, image.bytesPerLine())
    return rows[:, : 3 * w].reshape(h, w, 3).copy()
