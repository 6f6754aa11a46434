"""Small image helpers shared by the classical sky methods (not a method; not registered)."""

from __future__ import annotations

import cv2
import numpy as np


def grey(image: np.ndarray) -> np.ndarray:
    """Float32 luma in [0, 1] of a float32 RGB image."""
    return cv2.cvtColor(np.ascontiguousarray(image, dtype=np.float32), cv2.COLOR_RGB2GRAY)


def gradient_magnitude(gray: np.ndarray, sigma: float = 0.0) -> np.ndarray:
    """Sobel gradient magnitude of ``gray`` (float32), after a Gaussian blur of ``sigma`` px."""
    g = cv2.GaussianBlur(gray, (0, 0), sigma) if sigma > 0 else gray
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE)
    return cv2.magnitude(gx, gy)


def local_std(gray: np.ndarray, size: int) -> np.ndarray:
    """Standard deviation of ``gray`` in a ``size`` x ``size`` box around each pixel."""
    k = (size, size)
    mean = cv2.blur(gray, k, borderType=cv2.BORDER_REFLECT)
    sq = cv2.blur(gray * gray, k, borderType=cv2.BORDER_REFLECT)
    return np.sqrt(np.maximum(sq - mean * mean, 0.0))


def fisheye_outside(
    image: np.ndarray, corner: float = 0.06, max_std: float = 0.03, extreme: float = 0.08
) -> np.ndarray | None:
    """Mask of the area outside an upward fisheye circle, or None for an ordinary photo.

    A frame is taken as a circular fisheye when it is roughly square and its four corner
    patches (``corner`` of the side) are flat (std below ``max_std``) and nearly pure white or
    black (within ``extreme`` of 0 or 1). Such frames look up: the zenith is the centre and the
    corners are not sky.
    """
    h, w = image.shape[:2]
    if min(h, w) < 16 or not 0.8 <= h / w <= 1.25:
        return None
    c = max(2, round(corner * min(h, w)))
    g = grey(image)
    for patch in (g[:c, :c], g[:c, -c:], g[-c:, :c], g[-c:, -c:]):
        mean = float(patch.mean())
        if patch.std() > max_std or extreme < mean < 1.0 - extreme:
            return None
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot((yy - (h - 1) / 2) / (h / 2), (xx - (w - 1) / 2) / (w / 2))
    return r > 0.97


def keep_connected(mask: np.ndarray, seed: np.ndarray, min_area: int = 0) -> np.ndarray:
    """The components of boolean ``mask`` (8-connected) that touch boolean ``seed``.

    Components of at least ``min_area`` pixels that do not touch the seed are dropped too;
    ``min_area`` only removes small seed-touching specks.
    """
    if not mask.any():
        return mask
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=8
    )
    keep = np.zeros(count, bool)
    keep[np.unique(labels[seed & mask])] = True
    keep[0] = False
    if min_area:
        keep &= stats[:, cv2.CC_STAT_AREA] >= min_area
    return keep[labels]


def soften(values: np.ndarray, sigma_fraction: float) -> np.ndarray:
    """Gaussian blur with sigma as a fraction of the longer side (skipped below half a pixel),
    clipped to a float32 matte; used to give hard masks a soft edge for the refinement."""
    values = values.astype(np.float32, copy=False)
    sigma = sigma_fraction * max(values.shape[:2])
    if sigma >= 0.5:
        values = cv2.GaussianBlur(values, (0, 0), sigma)
    return np.clip(values, 0.0, 1.0)
