"""numpy arrays to QImage (copies, so the array may be freed), and back."""

from __future__ import annotations

import numpy as np
from PyQt6.QtGui import QColor, QImage, QPainter

from skyseg_core.depth import to_codes

OVERLAY_RGB = (255, 40, 150)
"""The matte overlay's colour: a magenta that stands out against blue, grey and sunset skies."""


def rgb_to_qimage(image: np.ndarray) -> QImage:
    image = np.ascontiguousarray(image, dtype=np.uint8)
    h, w = image.shape[:2]
    return QImage(image.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def _matte_bytes(matte: np.ndarray) -> np.ndarray:
    """A [0, 1] matte as rounded uint8 in one fast pass (saturating)."""
    return np.ascontiguousarray(to_codes(matte, np.uint8, clip=False))


def grey_to_qimage(matte: np.ndarray) -> QImage:
    grey = _matte_bytes(matte)
    h, w = grey.shape
    return QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


def overlay_qimage(matte: np.ndarray, rgb: tuple[int, int, int] = OVERLAY_RGB) -> QImage:
    """The matte as a coloured layer: ``rgb`` with the matte as alpha (composited by QPainter)."""
    alpha = _matte_bytes(matte)
    h, w = alpha.shape
    mask = QImage(alpha.data, w, h, w, QImage.Format.Format_Alpha8)
    out = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(QColor(*rgb))
    painter = QPainter(out)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationIn)
    painter.drawImage(0, 0, mask)
    painter.end()
    return out


def qimage_to_rgb(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = image.height(), image.width()
    ptr = image.constBits()
    ptr.setsize(image.sizeInBytes())
    rows = np.frombuffer(ptr, np.uint8).reshape(h, image.bytesPerLine())
    return rows[:, : 3 * w].reshape(h, w, 3).copy()
