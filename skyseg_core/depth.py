"""Byte depth: the one converter between 8/16-bit codes and floats in [0, 1].

White is 255 in uint8, 65535 in uint16 and 1.0 in a float array. Codes become floats by one
division; floats become codes by clipping to [0, 1], scaling and rounding. Rounding is half to
even (``np.round``) unless a caller keeps another on purpose: ``"half_up"`` (+0.5 and
truncation, the form the sRGB encoder and the tint's 16-bit pass were made with) or ``"down"``
(truncation, an edge detector's input). Between uint8 and uint16 the conversion is exact
integer arithmetic (x 257 up, rounded division by 257 down).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Rounding = Literal["even", "half_up", "down"]


def white(dtype) -> float:
    """The value of white in ``dtype``: 255.0 (uint8), 65535.0 (uint16), 1.0 (float)."""
    dtype = np.dtype(dtype)
    return float(np.iinfo(dtype).max) if dtype.kind in "ui" else 1.0


def to_float(codes: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Integer codes as a new float array of ``dtype`` in [0, 1] (codes / white); float codes
    are only cast."""
    codes = np.asarray(codes)
    if codes.dtype.kind == "f":
        return codes.astype(dtype)
    return codes.astype(dtype) / np.dtype(dtype).type(white(codes.dtype))


def to_codes(
    values: np.ndarray, dtype, *, rounding: Rounding = "even", clip: bool = True
) -> np.ndarray:
    """Floats in [0, 1] as codes of ``dtype`` (float ``dtype``: clipped and cast only).

    ``clip=False`` is for values in [0, 1] by construction (a checked matte): it saves a pass.
    """
    dtype = np.dtype(dtype)
    values = np.asarray(values)
    if clip:
        values = np.clip(values, 0.0, 1.0)
    if dtype.kind == "f":
        return values.astype(dtype, copy=False)
    if rounding == "even" and dtype == np.uint8 and values.dtype == np.float32 and values.ndim == 2:
        import cv2  # one pass, no float temporary; rounds half to even too (tests/test_depth.py)

        if values.size:
            return cv2.convertScaleAbs(np.ascontiguousarray(values), alpha=255.0)
    scaled = values * white(dtype)  # a Python float keeps float32 values float32
    if rounding == "even":
        scaled = np.round(scaled)
    elif rounding == "half_up":
        scaled += 0.5
    elif rounding != "down":
        raise ValueError(f"rounding must be 'even', 'half_up' or 'down', got {rounding!r}")
    return scaled.astype(dtype)


def convert_depth(codes: np.ndarray, dtype) -> np.ndarray:
    """Codes of one depth as codes of another (uint8, uint16, float), the colour unchanged."""
    dtype = np.dtype(dtype)
    codes = np.asarray(codes)
    if codes.dtype == dtype:
        return codes
    if codes.dtype == np.uint8 and dtype == np.uint16:
        return codes.astype(np.uint16) * np.uint16(257)
    if codes.dtype == np.uint16 and dtype == np.uint8:
        return ((codes.astype(np.uint32) + 128) // 257).astype(np.uint8)
    values = to_float(codes, np.float32)
    return values.astype(dtype) if dtype.kind == "f" else to_codes(values, dtype)
