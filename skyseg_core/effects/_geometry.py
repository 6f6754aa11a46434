"""Matte edge controls (shift, fade), the photo's sky border, sky placement and resampling.

Distances given to the public effects are in percent of the image's longer side, so a preview
at reduced size and the full-size export look the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..depth import to_codes


def percent_to_pixels(percent: float, shape: tuple[int, int]) -> float:
    """A distance in percent of the longer side, in pixels of an image of ``shape``."""
    return float(percent) * max(shape) / 100.0


def _changing_rows(matte: np.ndarray, margin: int) -> tuple[int, int] | None:
    """Rows [r0, r1) an edge operation of reach ``margin`` can change: rows where the matte is
    not constant, rows where it differs from the next row, and ``margin`` rows around them."""
    lo, hi = matte.min(axis=1), matte.max(axis=1)
    changing = lo != hi
    changing[:-1] |= lo[:-1] != lo[1:]
    rows = np.flatnonzero(changing)
    if rows.size == 0:
        return None
    return max(0, int(rows[0]) - margin), min(matte.shape[0], int(rows[-1]) + margin + 2)


def _with_rows(matte: np.ndarray, rows: np.ndarray, r0: int, r1: int) -> np.ndarray:
    """``matte`` with rows [r0, r1) replaced (no copy when that is all of it)."""
    if r0 == 0 and r1 == matte.shape[0]:
        return np.ascontiguousarray(rows, dtype=np.float32)
    out = matte.copy()
    out[r0:r1] = rows
    return out


def _distance_to(part: np.ndarray, sky_side: bool, r: float) -> np.ndarray:
    """Euclidean distance (pixels) of each pixel to the nearest pixel on the other side of 0.5.

    ``sky_side``: distance of sky pixels to non-sky (else of non-sky pixels to sky). For a
    large image and radius it is computed at half size and upsampled (error about a pixel,
    invisible at a radius of several pixels).
    """
    half = r >= 6 and part.size >= 4_000_000
    src = part
    if half:
        h, w = part.shape
        src = cv2.resize(
            part[: h // 2 * 2, : w // 2 * 2], (w // 2, h // 2), interpolation=cv2.INTER_AREA
        )
    mask = cv2.compare(src, 0.5, cv2.CMP_GE if sky_side else cv2.CMP_LT)
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, 5)
    if half:
        dist = cv2.resize(dist, (w, h), interpolation=cv2.INTER_LINEAR)
        dist *= np.float32(2.0)
    return dist


def shift_edge(matte: np.ndarray, pixels: float) -> np.ndarray:
    """Grow (``pixels`` > 0) or shrink (< 0) the sky by a disk of radius ``|pixels|``.

    The hard part of the matte (>= 0.5) is moved by a Euclidean distance transform, with a
    one-pixel anti-aliased edge; soft values outside the moved band are kept. Only the rows the
    edge can reach are computed.
    """
    if abs(pixels) < 1e-3:
        return matte
    r = float(abs(pixels))
    span = _changing_rows(matte, int(np.ceil(r)) + 2)
    if span is None:
        return matte
    r0, r1 = span
    part = matte[r0:r1]
    has_sky = cv2.countNonZero(cv2.compare(part, 0.5, cv2.CMP_GE)) > 0
    if not has_sky:
        return matte
    if pixels > 0:  # the edge lies half a pixel before the nearest sky pixel's centre
        dist = _distance_to(part, sky_side=False, r=r)
        moved = cv2.addWeighted(dist, -1.0, dist, 0.0, r + 1.0)
        cv2.min(moved, 1.0, dst=moved)
        cv2.max(part, moved, dst=moved)
    else:
        dist = _distance_to(part, sky_side=True, r=r)
        moved = cv2.addWeighted(dist, 1.0, dist, 0.0, -r)
        cv2.max(moved, 0.0, dst=moved)
        cv2.min(part, moved, dst=moved)
    return _with_rows(matte, moved, r0, r1)


def feather(matte: np.ndarray, sigma: float) -> np.ndarray:
    """Soften the matte edge with a Gaussian-like blur of standard deviation ``sigma`` pixels.

    Small sigmas use an exact Gaussian; larger ones OpenCV's stack blur, whose cost does not
    grow with the radius, at a reduced size (sigma stays >= 4 working pixels, so the result is
    as smooth) and upsampled. Only the rows the blur can change are computed.
    """
    if sigma < 0.3:
        return matte
    k = 2 * int(round(2.45 * sigma)) + 1
    span = _changing_rows(matte, k + 2)
    if span is None:
        return matte
    r0, r1 = span
    part = matte[r0:r1]
    if sigma < 3.0:
        blurred = cv2.GaussianBlur(part, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    else:
        f = int(min(8, max(1, sigma // 4)))
        h, w = part.shape
        small = (
            part
            if f == 1
            else cv2.resize(part, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
        )
        ks = 2 * int(round(2.45 * sigma / f)) + 1
        blurred = cv2.stackBlur(small, (ks, ks))
        if f > 1:
            blurred = cv2.resize(blurred, (w, h), interpolation=cv2.INTER_LINEAR)
    np.clip(
        blurred, 0.0, 1.0, out=blurred
    )  # float32 rounding of the blur leaves values like -6e-06
    return _with_rows(matte, blurred, r0, r1)


def shrink(image: np.ndarray, long_side: int) -> tuple[np.ndarray, int]:
    """Shrink by an integer factor k (area average) so the longer side is about ``long_side``.

    Returns ``(small, k)``; small pixel (i, j) averages full pixels [i k, (i+1) k) x [j k, (j+1) k),
    so full-size coordinates are ``(small + 0.5) * k - 0.5``. A few right/bottom pixels may be
    left out (fewer than k). ``k`` is at most the shorter side, so a thin image keeps at least
    one row and one column (its longer side then stays above ``long_side``).
    """
    h, w = image.shape[:2]
    k = max(1, min(int(max(h, w) // long_side), h, w))
    if k == 1:
        return image, 1
    sh, sw = h // k, w // k
    return cv2.resize(image[: sh * k, : sw * k], (sw, sh), interpolation=cv2.INTER_AREA), k


def upsample_block(
    small: np.ndarray, k: int, full_shape: tuple[int, int], r0: int, r1: int
) -> np.ndarray:
    """Bilinear upsampling by the integer factor ``k`` of ``small`` (from :func:`shrink`),
    rows [r0, r1) of the full image only (full width)."""
    H, W = full_shape
    sh, sw = small.shape[:2]
    s0 = max(0, r0 // k - 1)
    s1 = min(sh, -(-r1 // k) + 1)
    block = small[s0:s1]
    big = cv2.resize(block, (sw * k, (s1 - s0) * k), interpolation=cv2.INTER_LINEAR)
    out = big[r0 - s0 * k : r1 - s0 * k]
    if out.shape[0] < r1 - r0:  # rows past the shrunk image's last full block
        pad = np.repeat(out[-1:] if out.shape[0] else big[-1:], r1 - r0 - out.shape[0], axis=0)
        out = np.concatenate([out, pad], axis=0)
    if W > out.shape[1]:
        out = np.concatenate([out, np.repeat(out[:, -1:], W - out.shape[1], axis=1)], axis=1)
    return np.ascontiguousarray(out[:, :W])


def resize_to(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize with area interpolation when shrinking and bilinear when enlarging."""
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    interp = cv2.INTER_AREA if width * height < w * h else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interp)


def small_size(shape: tuple[int, int], long_side: int) -> tuple[int, int]:
    """(width, height) of an image of ``shape`` shrunk so its longer side is ``long_side`` at most."""
    h, w = shape
    s = min(1.0, long_side / max(h, w))
    return max(1, round(w * s)), max(1, round(h * s))


@dataclass(frozen=True)
class SkyBorder:
    """Where the photo's sky is: rows in full-resolution pixels."""

    top: float
    """Highest sky row (usually 0)."""
    horizon: float
    """The sky border: below it the photo has (almost) no sky. The new sky's horizon goes here."""
    has_sky: bool


def sky_border(matte_small: np.ndarray, full_height: int, percentile: float = 90.0) -> SkyBorder:
    """Estimate the sky border from a (small) matte.

    For each column that has sky, the lowest sky row; the border is the ``percentile`` of those
    rows, so a single column of sky seen far down through a gap does not drag the horizon down.
    """
    sky = matte_small >= 0.5
    h = matte_small.shape[0]
    scale = full_height / h
    cols = sky.any(axis=0)
    if not cols.any():
        return SkyBorder(0.0, full_height * 0.5, False)
    rows = np.arange(h)[:, None]
    lowest = np.where(sky, rows, -1).max(axis=0)[cols]
    highest = np.where(sky, rows, h).min(axis=0)[cols]
    horizon = (float(np.percentile(lowest, percentile)) + 1.0) * scale
    top = float(highest.min()) * scale
    return SkyBorder(
        top=top, horizon=min(float(full_height), max(horizon, top + scale)), has_sky=True
    )


@dataclass(frozen=True)
class Placement:
    """Affine map from the (flipped) sky image to the photo: ``out = scale * src + (tx, ty)``."""

    scale: float
    tx: float
    ty: float

    def matrix(self, factor: float = 1.0) -> np.ndarray:
        """The 2x3 matrix to an output ``factor`` times the photo's size (pixel centres kept)."""
        s = self.scale * factor
        # pixel-centre convention: out + 0.5 = factor * (scale * (src + 0.5) + t)
        tx = factor * (self.scale * 0.5 + self.tx) - 0.5
        ty = factor * (self.scale * 0.5 + self.ty) - 0.5
        return np.array([[s, 0.0, tx], [0.0, s, ty]], np.float64)


def place_sky(
    sky_shape: tuple[int, int],
    photo_shape: tuple[int, int],
    border: SkyBorder,
    position: tuple[float, float] = (0.5, 0.5),
    scale: float = 1.0,
) -> Placement:
    """Scale the sky to cover the photo's sky region, its bottom edge on the sky border.

    ``position[0]`` pans across any extra width (0 left, 1 right); ``position[1]`` = 0.5 puts the
    new sky's horizon on the border, 1 lowers it (and 0 raises it) by half the sky region's
    height. ``scale`` zooms about the horizon's centre.
    """
    sh, sw = sky_shape
    H, W = photo_shape
    region = max(border.horizon - border.top, 1.0)
    s = max(W / sw, region / sh, border.horizon / sh) * float(scale)
    width, height = sw * s, sh * s
    tx = (W - width) * float(position[0])
    ty = border.horizon - height + (float(position[1]) - 0.5) * region
    return Placement(scale=s, tx=tx, ty=ty)


def warp_rows(
    image: np.ndarray, placement: Placement, width: int, rows: int, factor: float = 1.0
) -> np.ndarray:
    """Render the placed image into ``rows`` x ``width`` pixels of the photo (at ``factor`` size).

    Regions the sky does not reach are filled by mirroring it. The placement is a scale and a
    shift, so this crops the source and resizes it (area filter when shrinking), with the shift
    rounded to whole output pixels.
    """
    if rows <= 0:
        return np.zeros((0, width) + image.shape[2:], image.dtype)
    m = placement.matrix(factor)
    s, tx, ty = m[0, 0], m[0, 2], m[1, 2]
    h, w = image.shape[:2]
    # source pixel range that covers output [0, width) x [0, rows): src = (out - t) / s
    x0 = int(np.floor((-0.5 - tx) / s)) - 1
    x1 = int(np.ceil((width - 0.5 - tx) / s)) + 2
    y0 = int(np.floor((-0.5 - ty) / s)) - 1
    y1 = int(np.ceil((rows - 0.5 - ty) / s)) + 2
    pads = (max(0, -y0), max(0, y1 - h), max(0, -x0), max(0, x1 - w))
    if max(pads[0], pads[1]) >= h or max(pads[2], pads[3]) >= w:  # far outside: mirror by warping
        return cv2.warpAffine(
            image, m, (width, rows), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
        )
    crop = image[max(y0, 0) : min(y1, h), max(x0, 0) : min(x1, w)]
    if any(pads):
        crop = cv2.copyMakeBorder(crop, *pads, borderType=cv2.BORDER_REFLECT_101)
    # crop pixel (0, 0) is source pixel (x0, y0), which lands at output (s * x0 + tx, s * y0 + ty)
    cw, ch = max(1, round(crop.shape[1] * s)), max(1, round(crop.shape[0] * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    big = cv2.resize(crop, (cw, ch), interpolation=interp)
    sx, sy = cw / crop.shape[1], ch / crop.shape[0]
    # big pixel j is crop coordinate (j + 0.5) / sx - 0.5: output x of big pixel 0
    ox = int(round(s * x0 + tx + s * (0.5 / sx - 0.5)))
    oy = int(round(s * y0 + ty + s * (0.5 / sy - 0.5)))
    out = big[max(0, -oy) : max(0, -oy) + rows, max(0, -ox) : max(0, -ox) + width]
    if out.shape[0] < rows or out.shape[1] < width or ox > 0 or oy > 0:
        return cv2.warpAffine(
            image, m, (width, rows), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
        )
    return np.ascontiguousarray(out)


def upsample_rows(small: np.ndarray, full_shape: tuple[int, int], rows: int) -> np.ndarray:
    """Bilinear upsampling of ``small`` to ``full_shape``, only the first ``rows`` rows."""
    H, W = full_shape
    h, w = small.shape[:2]
    sx, sy = W / w, H / h
    # full + 0.5 = (small + 0.5) * s
    m = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5]], np.float64)
    rows = int(min(max(rows, 0), H))
    if rows == 0:
        return np.zeros((0, W) + small.shape[2:], small.dtype)
    return cv2.warpAffine(
        small, m, (W, rows), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def estimate_blur(
    grey: np.ndarray, region: np.ndarray, sigma0: float = 1.0, min_edges: int = 40
) -> float | None:
    """Estimate the Gaussian blur (pixels) of the edges inside ``region`` of a grey image.

    Zhuo & Sim 2011 ("Defocus map estimation from a single image"): re-blur by ``sigma0``; at an
    edge blurred by sigma the gradient ratio is R = sqrt(sigma^2 + sigma0^2) / sigma, so
    sigma = sigma0 / sqrt(R^2 - 1). Returns the median over edge pixels, or None when the region
    has too few edges (a clear sky) to say.
    """
    grey = grey.astype(np.float32)
    g8 = to_codes(grey, np.uint8, rounding="down")
    edges = cv2.Canny(g8, 20, 50) > 0
    edges &= region
    if edges.sum() < min_edges:
        return None
    reblur = cv2.GaussianBlur(grey, (0, 0), sigma0)

    def grad(x):
        gx = cv2.Sobel(x, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(x, cv2.CV_32F, 0, 1, ksize=3)
        return cv2.magnitude(gx, gy)

    g1, g2 = grad(grey)[edges], grad(reblur)[edges]
    keep = g2 > 1e-4
    ratio = g1[keep] / g2[keep]
    if ratio.size < min_edges:
        return None
    ratio = np.maximum(ratio, 1.0 + 1e-3)
    sigma = sigma0 / np.sqrt(ratio**2 - 1.0)
    return float(np.median(np.clip(sigma, 0.0, 20.0 * sigma0)))
