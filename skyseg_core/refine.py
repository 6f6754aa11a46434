"""Edge-aware refinement: a confidence-weighted fast guided filter.

After Liba et al. 2020, "Sky Optimization: Semantically aware image processing of skies in
low-light photography": the coarse matte is filtered with the photo as guide, each pixel
weighted by the method's confidence (how far its probability is from 0.5), so confident
regions anchor the fit and the uncertain band along the horizon takes its shape from the
photo's edges. The linear coefficients are solved at a working resolution and upsampled
(He & Sun 2015, "Fast Guided Filter"), which keeps a 12 MP photo cheap.
"""

from __future__ import annotations

import cv2
import numpy as np

from .matte import as_matte, check_image, check_matte


def _box(x: np.ndarray, radius: int) -> np.ndarray:
    return cv2.boxFilter(x, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)


def _luma(image: np.ndarray) -> np.ndarray:
    """Float32 luma in [0, 1] at the image's size (computed on the stored integers: fast)."""
    if image.dtype == np.uint8:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) * np.float32(1 / 255)
    if image.dtype == np.uint16:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) * np.float32(1 / 65535)
    return cv2.cvtColor(image.astype(np.float32), cv2.COLOR_RGB2GRAY)


def refine(
    image: np.ndarray,
    matte: np.ndarray,
    radius: float = 0.01,
    eps: float = 1e-3,
    confidence_power: float = 2.0,
    min_confidence: float = 0.01,
    working_size: int = 768,
) -> np.ndarray:
    """Refine a coarse matte so its edges follow the photo.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        The photo (uint8, uint16 or float in [0, 1]); the guide.
    matte : ndarray, shape (h, w), float32 in [0, 1]
        The coarse matte, at any resolution (typically the method's working size).
    radius : float
        Filter radius as a fraction of the photo's longer side.
    eps : float
        Regularisation of the guided filter: larger keeps the coarse matte, smaller follows
        the photo's edges more closely.
    confidence_power : float
        Confidence is ``|2 p - 1| ** confidence_power``: higher trusts only the surest pixels.
    min_confidence : float
        Floor of the confidence weight, so wholly uncertain regions still get a value.
    working_size : int
        Longer side at which the filter coefficients are solved.

    Returns
    -------
    refined : ndarray, shape (H, W), float32 in [0, 1]
    """
    check_image(image)
    check_matte(matte)
    height, width = image.shape[:2]
    guide_full = _luma(image)
    scale = min(1.0, working_size / max(height, width))
    small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    guide = cv2.resize(guide_full, small_size, interpolation=cv2.INTER_AREA)
    interp = cv2.INTER_AREA if matte.shape[1] > small_size[0] else cv2.INTER_LINEAR
    p = cv2.resize(matte, small_size, interpolation=interp)
    r = max(1, round(radius * max(small_size)))

    confidence = np.abs(2.0 * p - 1.0) ** confidence_power + np.float32(min_confidence)
    confidence = confidence.astype(np.float32)
    weight = _box(confidence, r)
    mean_i = _box(confidence * guide, r) / weight
    mean_p = _box(confidence * p, r) / weight
    corr_ip = _box(confidence * guide * p, r) / weight
    corr_ii = _box(confidence * guide * guide, r) / weight
    a = (corr_ip - mean_i * mean_p) / (corr_ii - mean_i * mean_i + np.float32(eps))
    b = mean_p - a * mean_i
    mean_a = _box(a, r)
    mean_b = _box(b, r)
    if small_size != (width, height):
        mean_a = cv2.resize(mean_a, (width, height), interpolation=cv2.INTER_LINEAR)
        mean_b = cv2.resize(mean_b, (width, height), interpolation=cv2.INTER_LINEAR)
    refined = cv2.multiply(mean_a, guide_full)
    cv2.add(refined, mean_b, dst=refined)
    return as_matte(refined)
