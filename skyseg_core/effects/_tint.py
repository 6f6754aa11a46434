"""Gradient tint of the sky with the usual blend modes."""

from __future__ import annotations

import cv2
import numpy as np

from ..blend_modes import BLEND_MODES, blend
from ..declare import parse_colour
from ..depth import to_codes, to_float
from ..errors import InputError
from ..matte import check_image, check_matte
from . import _color as C
from ._common import check_unit, runs
from ._transfer import colours_in_signal

PLACING_MODES = ("normal", "darken", "lighten", "color", "hue", "saturation", "luminosity")
"""Blend modes whose result takes the gradient's own colour (or its hue, saturation or
brightness): in an HDR clip that colour is put into the clip's signal first. The other modes
are arithmetic around fixed neutral codes (white for multiply, 0.5 for soft light), which a
converted colour would move (a white multiply would darken), so their colours stay as given."""


def parse_stops(stops) -> tuple[np.ndarray, np.ndarray]:
    """Gradient stops ``((position, colour), ...)`` -> sorted positions (n,) and colours (n, 3)."""
    try:
        items = [(float(p), parse_colour(c)) for p, c in stops]
    except InputError:
        raise
    except (TypeError, ValueError):
        raise InputError(f"stops must be pairs (position, colour), got {stops!r}") from None
    if len(items) < 2:
        raise InputError(f"a gradient needs at least two stops, got {len(items)}")
    for p, _ in items:
        if not 0.0 <= p <= 1.0:
            raise InputError(f"stop positions must be in [0, 1], got {p:g}")
    items.sort(key=lambda item: item[0])
    return np.array([p for p, _ in items], np.float32), np.stack([c for _, c in items])


def gradient_field(
    shape: tuple[int, int], matte: np.ndarray | None, angle: float, rows: int | None = None
) -> np.ndarray:
    """Gradient position t in [0, 1] for each pixel of the first ``rows`` rows.

    ``angle`` in degrees, counter-clockwise from "to the right"; 90 runs from the bottom of the
    sky (t = 0) to its top (t = 1), like Photoshop's gradient angle. The gradient spans the sky's
    bounding box (the whole frame when there is no sky).
    """
    xs, ys = _gradient_axes(shape, matte, angle)
    rows = shape[0] if rows is None else rows
    return np.clip(ys[:rows, None] + xs[None, :], 0.0, 1.0)


def _gradient_axes(
    shape: tuple[int, int], matte: np.ndarray | None, angle: float
) -> tuple[np.ndarray, np.ndarray]:
    """t = xs[x] + ys[y] (before clipping) for the gradient of :func:`gradient_field`."""
    H, W = shape
    y0, y1, x0, x1 = 0.0, float(H), 0.0, float(W)
    if matte is not None:
        sky = matte >= 0.5
        ys, xs = np.flatnonzero(sky.any(axis=1)), np.flatnonzero(sky.any(axis=0))
        if ys.size:
            y0, y1, x0, x1 = float(ys[0]), float(ys[-1] + 1), float(xs[0]), float(xs[-1] + 1)
    theta = np.deg2rad(float(angle))
    dx, dy = np.cos(theta), -np.sin(theta)
    corners = [x * dx + y * dy for x in (x0, x1) for y in (y0, y1)]
    lo, hi = min(corners), max(corners)
    span = max(hi - lo, 1e-6)
    xs = ((np.arange(W, dtype=np.float32) + 0.5) * np.float32(dx) - np.float32(lo)) / np.float32(
        span
    )
    ys = (np.arange(H, dtype=np.float32) + 0.5) * np.float32(dy / span)
    return xs, ys


def gradient_colours(t: np.ndarray, positions: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """Colours (float sRGB, (..., 3)) of the gradient at positions ``t``."""
    return np.stack(
        [np.interp(t, positions, colours[:, c]).astype(np.float32) for c in range(3)], axis=-1
    )


GRADIENT_STEPS = 1024
"""Samples of the gradient table the tint looks colours up in."""

CHUNK_ROWS = 32


def tint(image, matte, stops, angle, mode, strength, with_layer=False):
    """Engine of :func:`skyseg_core.effects.tint_sky`; returns (result, gradient layer or None)."""
    check_image(image)
    check_matte(matte, image.shape[:2])
    if mode not in BLEND_MODES:
        raise InputError(f"unknown blend mode {mode!r}; choose one of: {', '.join(BLEND_MODES)}")
    strength = check_unit("strength", strength)
    angle = check_unit("angle", angle, -3600.0, 3600.0)
    positions, colours = parse_stops(stops)
    if mode in PLACING_MODES:
        colours = colours_in_signal(colours)
    if image.shape[1] == 1:  # OpenCV reads (H, 1, 3) arrays as scalars: run on two columns
        out, layer = tint(
            np.repeat(image, 2, axis=1),
            np.repeat(matte, 2, axis=1),
            stops,
            angle,
            mode,
            strength,
            with_layer,
        )
        return np.ascontiguousarray(out[:, :1]), None if layer is None else np.ascontiguousarray(
            layer[:, :1]
        )
    H, W = image.shape[:2]
    dtype = image.dtype
    out = image.copy()
    layer = None
    if with_layer:
        layer = gradient_colours(gradient_field((H, W), matte, angle), positions, colours)
    row_max = matte.max(axis=1)
    if strength <= 0 or not np.any(row_max > 0):
        return out, layer
    table = gradient_colours(
        np.linspace(0.0, 1.0, GRADIENT_STEPS, dtype=np.float32), positions, colours
    )
    xs, ys = _gradient_axes((H, W), matte, angle)
    for r0, r1 in runs(row_max > 0):
        for c0 in range(r0, r1, CHUNK_ROWS):
            c1 = min(r1, c0 + CHUNK_ROWS)
            t = np.clip(ys[c0:c1, None] + xs[None, :], 0.0, 1.0)
            grad = table[(t * np.float32(GRADIENT_STEPS - 1) + np.float32(0.5)).astype(np.int32)]
            codes = image[c0:c1]
            tinted = blend(to_float(codes), grad, mode)
            lin_a = C.to_linear(codes)
            lin_b = C.to_linear(to_codes(tinted, np.uint16, rounding="half_up", clip=False))
            w = matte[c0:c1] * np.float32(strength)
            mixed = cv2.blendLinear(lin_a, lin_b, np.float32(1.0) - w, w)
            out[c0:c1] = C.from_linear(mixed, dtype, clip=dtype.kind == "f")
    if dtype.kind == "f":  # float codes do not survive decode/encode bit-exactly: restore them
        np.copyto(out, image, where=(matte <= 0)[..., None])
    return out, layer
