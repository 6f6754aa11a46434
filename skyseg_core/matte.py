"""The one matte type and the one image converter.

A matte is a float32 array of shape (H, W) with values in [0, 1], 1 = sky. An image, inside
skyseg, is an (H, W, 3) RGB array of uint8 or uint16 as loaded, and float32 in [0, 1] when an
algorithm needs it; :func:`to_float_rgb` converts a loaded image (through :mod:`.depth`, the
one byte-depth converter).
"""

from __future__ import annotations

import numpy as np

from .depth import convert_depth, to_codes, to_float
from .errors import InputError, MatteError


def check_image(image: np.ndarray) -> np.ndarray:
    """Validate an RGB image array and return it unchanged.

    Accepts (H, W, 3) arrays of uint8, uint16 or float32/float64 in [0, 1] (finite: NaN and
    infinity are refused here, for every method and effect alike).
    """
    if not isinstance(image, np.ndarray):
        raise InputError(f"expected a numpy array image, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise InputError(f"expected an RGB image of shape (H, W, 3), got shape {image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise InputError(f"image has no pixels (shape {image.shape})")
    if image.dtype not in (np.uint8, np.uint16, np.float32, np.float64):
        raise InputError(f"expected uint8, uint16 or float image, got dtype {image.dtype}")
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise InputError("image holds NaN or infinite values; expected floats in [0, 1]")
    return image


def to_float_rgb(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as float32 RGB in [0, 1] (uint8 / 255, uint16 / 65535)."""
    check_image(image)
    if image.dtype.kind == "f":
        return np.clip(image, 0.0, 1.0).astype(np.float32, copy=False)
    return to_float(image)


def to_uint8_rgb(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as uint8 RGB (rounded), whatever its dtype."""
    check_image(image)
    if image.dtype.kind == "f":  # rounded from its own precision, not through float32
        return to_codes(image, np.uint8)
    return convert_depth(image, np.uint8)


def check_matte(matte: np.ndarray, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Validate a matte: float32, 2-D, finite, values in [0, 1], optionally of ``shape`` (H, W).

    Returns the matte unchanged; raises :class:`MatteError` saying what was expected and got.
    """
    if not isinstance(matte, np.ndarray):
        raise MatteError(f"expected a numpy array matte, got {type(matte).__name__}")
    if matte.dtype != np.float32:
        raise MatteError(f"expected a float32 matte, got dtype {matte.dtype}")
    if matte.ndim != 2:
        raise MatteError(f"expected a 2-D (H, W) matte, got shape {matte.shape}")
    if shape is not None and matte.shape != tuple(shape):
        raise MatteError(f"expected a matte of shape {tuple(shape)}, got {matte.shape}")
    if matte.size and not np.isfinite(matte).all():
        raise MatteError("matte values must be finite and in [0, 1], got NaN or infinity")
    if matte.size and not (matte.min() >= 0.0 and matte.max() <= 1.0):
        raise MatteError(
            f"matte values must be in [0, 1], got range [{matte.min():.3g}, {matte.max():.3g}]"
        )
    return matte


def as_matte(values: np.ndarray) -> np.ndarray:
    """Clip any real array to a valid float32 matte (NaN becomes 0)."""
    out = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    return np.clip(out, 0.0, 1.0, out=out)


def resize_matte(matte: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a matte to ``shape`` (H, W) with bilinear interpolation (area when shrinking)."""
    import cv2

    h, w = shape
    if matte.shape == (h, w):
        return matte
    shrinking = h * w < matte.shape[0] * matte.shape[1]
    interp = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return as_matte(cv2.resize(matte, (w, h), interpolation=interp))
