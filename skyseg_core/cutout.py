"""Cut-outs: the photo with its sky transparent, edge colours freed of the sky's.

Where the matte is soft (hair, leaves, a hazy ridge) a pixel is a mix of foreground and sky:
``I = a F + (1 - a) B``. Keeping ``I`` as the colour of a half-transparent pixel leaves a
sky-coloured fringe when the cut-out is put on another background. :func:`estimate_foreground`
recovers ``F`` with blur-fusion foreground estimation (M. Forte, F. Pitié, "Approximate Fast
Foreground Colour Estimation", ICIP 2021): two passes of local means of the foreground and the
background, weighted by alpha, then the residual of the compositing equation added back. It
needs only box filters (OpenCV), so it is linear in the pixel count and exact where alpha is
0 or 1; pymatting's multilevel estimator gives similar edges but needs numba.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import cv2
import numpy as np

from .depth import to_codes, white
from .errors import InputError
from .matte import check_image, check_matte, to_float_rgb

__all__ = ["cutout", "estimate_foreground"]

FINE_RADIUS = 6
"""Box size of the second blur-fusion pass (the paper's 6)."""

BAND_PIXELS = 1 << 18
"""Pixels of a band's own rows (at least): the foreground is estimated band by band, each band
with the rows the box filters reach above and below it, so the working memory is a few bands,
not a few copies of the photo."""

_EPS = np.float32(1e-5)

_ROWS = 256
"""Rows of the alpha codes computed at a time."""


def default_radius(shape: tuple[int, ...]) -> int:
    """The paper's 90 px, or 1/22 of the longer side on photos over 2000 px."""
    return max(90, round(max(shape[:2]) / 22))


def _reach(radius: int) -> int:
    """Rows a box filter of size ``radius`` reads above or below the row it gives (and one more)."""
    return radius // 2 + 1


class _Weights:
    """What one pass needs of alpha: alpha, ``1 - alpha`` and the box-filtered alpha's two
    denominators (float32 (h, w) arrays)."""

    def __init__(self, alpha: np.ndarray, radius: int):
        self.alpha, self.inverse, self.radius = alpha, 1 - alpha, radius
        blurred = cv2.blur(alpha, (radius, radius))
        self.fg_norm = blurred + _EPS
        self.bg_norm = (1 - blurred) + _EPS

    def rows(self, rows: slice, radius: int) -> _Weights:
        return _Weights(self.alpha[rows], radius)


def _fusion_pass(rgb, fg, bg, w: _Weights, work: np.ndarray):
    """One pass of blur fusion on one channel; ``work`` holds four float32 arrays of alpha's
    shape, overwritten. Returns (foreground, blurred background), two of them. Operands are
    combined in the order of the paper's formula, so each value is the one a computation on the
    whole photo gives."""
    product, blurred_fg, blurred_bg, out = work
    size = (w.radius, w.radius)
    cv2.blur(np.multiply(fg, w.alpha, out=product), size, dst=blurred_fg)
    blurred_fg /= w.fg_norm
    cv2.blur(np.multiply(bg, w.inverse, out=product), size, dst=blurred_bg)
    blurred_bg /= w.bg_norm
    # fg = blurred_fg + alpha * (rgb - alpha * blurred_fg - (1 - alpha) * blurred_bg)
    np.multiply(w.alpha, blurred_fg, out=out)
    np.subtract(rgb, out, out=out)
    out -= np.multiply(w.inverse, blurred_bg, out=product)
    out *= w.alpha
    out += blurred_fg
    return np.clip(out, 0.0, 1.0, out=out), blurred_bg


def _foreground_bands(
    image: np.ndarray,
    alpha_rows: Callable[[int, int], np.ndarray],
    radius: int,
    fine_radius: int,
    wanted: Callable[[int, int], bool] = lambda y0, y1: True,
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Blur fusion band by band: ``(y0, y1, foreground of rows y0:y1)``, float32 (h, W, 3).

    ``alpha_rows(a, b)`` gives the float32 alpha of rows a:b. Bands for which
    ``wanted(y0, y1)`` is false are skipped.
    """
    H, W = image.shape[:2]
    reach = _reach(radius) + _reach(fine_radius)
    band_rows = max(reach, -(-BAND_PIXELS // W))
    work = np.empty((4, min(H, band_rows + 2 * reach), W), np.float32)
    for y0 in range(0, H, band_rows):
        y1 = min(H, y0 + band_rows)
        if wanted(y0, y1):
            yield y0, y1, _foreground_band(image, alpha_rows, y0, y1, radius, fine_radius, work)


def _foreground_band(image, alpha_rows, y0: int, y1: int, radius: int, fine_radius: int, work):
    """The foreground of rows y0:y1. The coarse pass runs on them and the rows its box filter
    and the fine one reach above and below; the fine pass on them and the rows its own box
    filter reaches. So every value is the one a computation on the whole photo gives."""
    H, W = image.shape[:2]
    fine_reach = _reach(fine_radius)
    reach = _reach(radius) + fine_reach
    h0, h1 = max(0, y0 - reach), min(H, y1 + reach)
    f0, f1 = max(0, y0 - fine_reach), min(H, y1 + fine_reach)
    fine_rows, own_rows = slice(f0 - h0, f1 - h0), slice(y0 - f0, y1 - f0)
    rgb = to_float_rgb(image[h0:h1])
    coarse_weights = _Weights(alpha_rows(h0, h1), radius)
    fine_weights = coarse_weights.rows(fine_rows, fine_radius)
    fg = np.empty((y1 - y0, W, 3), np.float32)
    for c in range(3):
        channel = rgb[..., c]
        coarse, bg = _fusion_pass(channel, channel, channel, coarse_weights, work[:, : h1 - h0])
        coarse, bg = coarse[fine_rows].copy(), bg[fine_rows].copy()
        fine, _ = _fusion_pass(channel[fine_rows], coarse, bg, fine_weights, work[:, : f1 - f0])
        fg[..., c] = fine[own_rows]
    solid = coarse_weights.alpha[y0 - h0 : y1 - h0] >= 1.0
    np.copyto(fg, rgb[y0 - h0 : y1 - h0], where=solid[..., None])
    return fg


def estimate_foreground(
    image: np.ndarray, alpha: np.ndarray, radius: int | None = None, fine_radius: int = FINE_RADIUS
) -> np.ndarray:
    """Foreground colours of a photo under a soft alpha (blur fusion, see the module docstring).

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), uint8, uint16 or float in [0, 1]
    alpha : ndarray, shape (H, W), float32 in [0, 1]
        Foreground opacity (for a sky cut-out, ``1 - matte``).
    radius : int, optional
        Box size of the first, coarse pass in pixels: it must span the soft edge. Default the
        paper's 90 px, or 1/22 of the longer side on photos over 2000 px (box filters cost the
        same at any size).
    fine_radius : int
        Box size of the second pass (the paper's 6).

    Returns
    -------
    foreground : ndarray, shape (H, W, 3), float32 in [0, 1]
        Equal to the photo where alpha is 1.
    """
    check_image(image)
    check_matte(alpha, image.shape[:2])
    radius = default_radius(image.shape) if radius is None else int(radius)
    fg = np.empty((*image.shape[:2], 3), np.float32)
    bands = _foreground_bands(
        image, lambda a, b: alpha[a:b].astype(np.float32), radius, max(1, int(fine_radius))
    )
    for y0, y1, band in bands:
        fg[y0:y1] = band
    return fg


def cutout(
    image: np.ndarray, matte: np.ndarray, decontaminate: bool = True, radius: int | None = None
) -> np.ndarray:
    """The photo with its sky transparent.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), uint8 or uint16
    matte : ndarray, shape (H, W), float32 in [0, 1]
        1 = sky (as :func:`skyseg_core.segment` returns).
    decontaminate : bool
        Replace the colours of partly transparent pixels by the estimated foreground
        (:func:`estimate_foreground`); without it they keep the photo's (sky-tinted) colours.
    radius : int, optional
        See :func:`estimate_foreground`.

    Returns
    -------
    rgba : ndarray, shape (H, W, 4), the image's dtype
        Alpha is ``1 - matte``; pixels with alpha 1 keep the photo's values exactly.
    """
    check_image(image)
    check_matte(matte, image.shape[:2])
    if image.dtype not in (np.uint8, np.uint16):
        raise InputError(f"cutout takes a uint8 or uint16 photo, got {image.dtype}")
    top = white(image.dtype)
    rgba = np.empty((*image.shape[:2], 4), image.dtype)
    rgba[..., :3] = image
    # alpha codes row block by row block: no full-size float temporaries
    for y0 in range(0, image.shape[0], _ROWS):
        y1 = y0 + _ROWS
        alpha = np.float32(1.0) - matte[y0:y1]
        rgba[y0:y1, :, 3] = to_codes(alpha, image.dtype, clip=False)  # 1 - a checked matte
    if not decontaminate:
        return rgba
    alpha_codes = rgba[..., 3]

    def soft_rows(y0: int, y1: int) -> bool:
        return bool((alpha_codes[y0:y1] < top).any())

    radius = default_radius(image.shape) if radius is None else int(radius)
    bands = _foreground_bands(
        image, lambda a, b: np.float32(1.0) - matte[a:b], radius, FINE_RADIUS, soft_rows
    )
    for y0, y1, fg in bands:
        soft = alpha_codes[y0:y1] < top
        for c in range(3):
            codes = to_codes(fg[..., c], image.dtype, clip=False)  # clipped by the estimate
            np.copyto(rgba[y0:y1, :, c], codes, where=soft)
    return rgba
