"""Edge-aware refinement: a confidence-weighted fast guided filter with a colour guide.

After Liba et al. 2020, "Sky Optimization: Semantically aware image processing of skies in
low-light photography": the coarse matte is filtered with the photo as guide, each pixel
weighted by the method's confidence (how far its probability is from 0.5), so confident
regions anchor the fit and the uncertain band along the horizon takes its shape from the
photo's edges. The guide is the RGB photo (He et al. 2013, "Guided Image Filtering", colour
case): a blue sky and green foliage of equal luma still differ in colour, so branches against
the sky stay separable. The linear coefficients are solved at a working resolution and applied
at full resolution (He & Sun 2015, "Fast Guided Filter").

Speed: the working image is an exact k x k block average of the photo (an integer factor, which
OpenCV shrinks fast), and the full-resolution pass ``q = a . I + b`` is evaluated exactly only in
tiles where the coefficients ``a`` times the photo's local contrast are not negligible (near
matte transitions); elsewhere the working-resolution result is upsampled, which differs from the
exact pass by about ``detail_tolerance`` at most.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .depth import white
from .errors import InputError
from .matte import check_image, check_matte

GUIDES = ("color", "luma")

_TILE = 8
"""Tile side, in working-resolution pixels, of the full-resolution detail pass."""


def _box(x: np.ndarray, radius: int) -> np.ndarray:
    return cv2.boxFilter(x, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)


def _box_channels(planes: list[np.ndarray], radius: int) -> list[np.ndarray]:
    """Box-filter many float32 planes, four channels per OpenCV call (faster than one by one)."""
    out: list[np.ndarray] = []
    for start in range(0, len(planes), 4):
        chunk = planes[start : start + 4]
        filtered = _box(cv2.merge(chunk) if len(chunk) > 1 else chunk[0], radius)
        out.extend(cv2.split(filtered) if len(chunk) > 1 else [filtered])
    return out


def _scale_of(image: np.ndarray) -> float:
    """Factor that brings the stored values to [0, 1]."""
    return 1.0 / white(image.dtype)


def _as_float32(image: np.ndarray) -> np.ndarray:
    """float32 in [0, 1] (a float64 image is converted; a float image is clipped)."""
    scale = _scale_of(image)
    if scale != 1.0:
        out = image.astype(np.float32)
        out *= np.float32(scale)
        return out
    return np.clip(image, 0.0, 1.0).astype(np.float32, copy=False)


def _luma(image: np.ndarray) -> np.ndarray:
    """(H, W, 1) luma of an RGB image in the image's own dtype (float64 becomes float32)."""
    if image.dtype == np.float64:
        image = image.astype(np.float32)
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., None]


def _solve_color(guide: np.ndarray, p: np.ndarray, weight: np.ndarray, r: int, eps: float):
    """Weighted guided-filter coefficients for a 3-channel guide: (a of shape (h, w, 3), b)."""
    ir, ig, ib = cv2.split(guide)
    wi = [weight * ir, weight * ig, weight * ib]
    wp = weight * p
    planes = [
        weight,
        *wi,
        wp,
        wp * ir,
        wp * ig,
        wp * ib,
        wi[0] * ir,
        wi[0] * ig,
        wi[0] * ib,
        wi[1] * ig,
        wi[1] * ib,
        wi[2] * ib,
    ]
    (w, mr, mg, mb, mp, mpr, mpg, mpb, mrr, mrg, mrb, mgg, mgb, mbb) = _box_channels(planes, r)
    inv_w = 1.0 / w
    mr, mg, mb, mp = mr * inv_w, mg * inv_w, mb * inv_w, mp * inv_w
    # Covariance of guide and matte, and of the guide with itself (+ eps on the diagonal).
    cr, cg, cb = mpr * inv_w - mr * mp, mpg * inv_w - mg * mp, mpb * inv_w - mb * mp
    e = np.float32(eps)
    vrr = mrr * inv_w - mr * mr + e
    vrg = mrg * inv_w - mr * mg
    vrb = mrb * inv_w - mr * mb
    vgg = mgg * inv_w - mg * mg + e
    vgb = mgb * inv_w - mg * mb
    vbb = mbb * inv_w - mb * mb + e
    # Inverse of the symmetric 3x3 by cofactors (vectorised over pixels).
    i_rr = vgg * vbb - vgb * vgb
    i_rg = vgb * vrb - vrg * vbb
    i_rb = vrg * vgb - vgg * vrb
    i_gg = vrr * vbb - vrb * vrb
    i_gb = vrb * vrg - vrr * vgb
    i_bb = vrr * vgg - vrg * vrg
    det = vrr * i_rr + vrg * i_rg + vrb * i_rb
    inv_det = 1.0 / det
    ar = (i_rr * cr + i_rg * cg + i_rb * cb) * inv_det
    ag = (i_rg * cr + i_gg * cg + i_gb * cb) * inv_det
    ab = (i_rb * cr + i_gb * cg + i_bb * cb) * inv_det
    b = mp - ar * mr - ag * mg - ab * mb
    return [ar, ag, ab], b


def _solve_luma(guide: np.ndarray, p: np.ndarray, weight: np.ndarray, r: int, eps: float):
    """Weighted guided-filter coefficients for a 1-channel guide."""
    i = guide[..., 0] if guide.ndim == 3 else guide
    wi = weight * i
    w, mi, mp, mip, mii = _box_channels([weight, wi, weight * p, wi * p, wi * i], r)
    inv_w = 1.0 / w
    mi, mp = mi * inv_w, mp * inv_w
    a = (mip * inv_w - mi * mp) / (mii * inv_w - mi * mi + np.float32(eps))
    return [a], mp - a * mi


def refine(
    image: np.ndarray,
    matte: np.ndarray,
    radius: float = 0.02,
    eps: float = 1e-4,
    confidence_power: float = 2.0,
    min_confidence: float = 0.01,
    working_size: int = 512,
    guide: str = "color",
    detail_tolerance: float = 1.0 / 1024,
    iterations: int = 1,
) -> np.ndarray:
    """Refine a coarse matte so its edges follow the photo.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        The photo (uint8, uint16 or float in [0, 1]); the guide.
    matte : ndarray, shape (h, w), float32 in [0, 1]
        The coarse matte, at any resolution (typically the method's working size).
    radius : float
        Filter radius as a fraction of the photo's longer side (at least one working pixel).
    eps : float
        Regularisation of the guided filter (in squared [0, 1] intensity units): larger keeps
        the coarse matte, smaller follows the photo's edges more closely.
    confidence_power : float
        Confidence is ``|2 p - 1| ** confidence_power``: higher trusts only the surest pixels.
    min_confidence : float
        Floor of the confidence weight, so wholly uncertain regions still get a value.
    working_size : int
        Longer side (at most) at which the coefficients are solved. The photo is shrunk by an
        integer factor, so the working side lies between ``working_size / 2`` and ``working_size``.
    guide : {"color", "luma"}
        ``"color"`` guides with the RGB photo (separates sky and foliage of equal brightness),
        ``"luma"`` with its brightness only (somewhat faster).
    detail_tolerance : float
        About the largest difference allowed between the exact full-resolution filter and the
        shortcut used where it is flat (upsampling the working-resolution result). The test
        uses the photo's contrast at working resolution, so strong pixel noise can exceed it
        slightly; 0 computes every pixel near a matte transition exactly.
    iterations : int
        Passes at working resolution, each refining the previous result (the full-resolution
        pass runs once): more passes let sure pixels claim more of a wide uncertain band.

    Returns
    -------
    refined : ndarray, shape (H, W), float32 in [0, 1]
        The refined matte at the photo's size, 1 = sky.

    Notes
    -----
    The defaults were chosen on the training split of the shared data with
    ``scripts/tune_refine.py`` (results in ``docs/refine_tuning.md``): refining the ``color``
    method's coarse matte raised the boundary F-score from 0.26 to 0.36 at no cost in IoU.
    Thin structures narrower than the filter window (antennas, wires) come out sharp-edged but
    grey rather than fully non-sky: a guided filter cannot add contrast the coarse matte lacks.
    """
    check_image(image)
    check_matte(matte)
    if guide not in GUIDES:
        raise InputError(f"unknown guide {guide!r}; choose one of: {', '.join(GUIDES)}")
    if working_size < 1 or eps <= 0 or radius < 0 or min_confidence <= 0:
        raise InputError(
            "refine needs working_size >= 1, eps > 0, radius >= 0 and min_confidence > 0"
        )
    if matte.size == 0:
        raise InputError(f"empty matte (shape {matte.shape})")
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise InputError("the image has NaN or infinite values")
    height, width = image.shape[:2]
    source = image if guide == "color" else _luma(image)

    # Working resolution: an exact block average by integer factors (fast in OpenCV).
    factor = max(1, math.ceil(max(height, width) / working_size))
    fy, fx = min(factor, height), min(factor, width)
    h, w = height // fy, width // fx
    if (fy, fx) == (1, 1):
        small = source
    else:
        small = cv2.resize(source[: h * fy, : w * fx], (w, h), interpolation=cv2.INTER_AREA)
        if small.ndim == 2:
            small = small[..., None]
    small = _as_float32(small)

    interp = cv2.INTER_AREA if matte.shape[1] > w or matte.shape[0] > h else cv2.INTER_LINEAR
    p = matte if matte.shape == (h, w) else cv2.resize(matte, (w, h), interpolation=interp)
    r = max(1, round(radius * max(h, w)))

    solve = _solve_color if small.shape[2] == 3 else _solve_luma
    q = p
    for _ in range(max(1, iterations)):
        p = np.clip(q, 0.0, 1.0)
        weight = np.abs(2.0 * p - 1.0) ** np.float32(confidence_power) + np.float32(min_confidence)
        weight = weight.astype(np.float32, copy=False)
        a, b = solve(small, p, weight, r, eps)
        *a, b = _box_channels([*a, b], r)
        q = b.copy()
        for channel, coefficient in enumerate(a):
            q += coefficient * small[..., channel]
    if (fy, fx) == (1, 1):
        return np.clip(q, 0.0, 1.0, out=q)

    out = _upsample(q, fy, fx, height, width)
    _detail_pass(out, source, small, a, b, fy, fx, detail_tolerance)
    return np.clip(out, 0.0, 1.0, out=out)


def _upsample(q: np.ndarray, fy: int, fx: int, height: int, width: int) -> np.ndarray:
    """Bilinear upsampling by integer factors, the leftover border rows/columns replicated."""
    h, w = q.shape
    out = np.empty((height, width), np.float32)
    cv2.resize(q, (w * fx, h * fy), dst=out[: h * fy, : w * fx], interpolation=cv2.INTER_LINEAR)
    if w * fx < width:
        out[: h * fy, w * fx :] = out[: h * fy, w * fx - 1 : w * fx]
    if h * fy < height:
        out[h * fy :] = out[h * fy - 1]
    return out


def _detail_pass(out, source, small, a, b, fy, fx, tolerance) -> None:
    """Evaluate ``q = a . I + b`` at full resolution where it can differ from ``out``, in place.

    ``out`` holds the upsampled working-resolution result. They differ by ``a . (I - up(I_small))``:
    the photo's detail finer than a working pixel, weighted by ``a``. That detail is bounded by the
    guide's local range at working resolution, so tiles where ``sum |a_c| * range_c`` stays below
    ``tolerance`` keep the upsampled value.
    """
    h, w = b.shape
    kernel = np.ones((3, 3), np.uint8)
    change = np.zeros((h, w), np.float32)
    for channel, coefficient in enumerate(a):
        plane = small[..., channel]
        change += np.abs(coefficient) * (cv2.dilate(plane, kernel) - cv2.erode(plane, kernel))
    active = change > np.float32(tolerance)
    if not active.any():
        return
    active = cv2.dilate(active.astype(np.uint8), kernel) > 0
    rows, cols = math.ceil(h / _TILE), math.ceil(w / _TILE)
    padded = np.zeros((rows * _TILE, cols * _TILE), bool)
    padded[:h, :w] = active
    tiles = np.asarray(padded.reshape(rows, _TILE, cols, _TILE).any(axis=(1, 3)))

    # Coefficients for the stored values plus a constant channel equal to the dtype's maximum,
    # with a one-pixel replicated margin so a block resized by the integer factors lines up
    # exactly with the full-resolution pixels (bilinear, pixel centres as cv2.resize).
    scale = np.float32(_scale_of(source))
    coefficients = cv2.merge([c * scale for c in a] + [b * scale])
    coefficients = cv2.copyMakeBorder(coefficients, 1, 2, 1, 2, cv2.BORDER_REPLICATE)
    height, width = out.shape
    channels = source.shape[2]
    to_alpha = cv2.COLOR_RGB2RGBA if channels == 3 else cv2.COLOR_GRAY2BGRA
    for row in range(rows):
        s0, s1 = row * _TILE, min(h, (row + 1) * _TILE)
        y0, y1 = s0 * fy, (height if s1 == h else s1 * fy)
        flags = np.flatnonzero(np.diff(np.concatenate(([0], tiles[row].astype(np.int8), [0]))))
        for start, stop in zip(flags[::2], flags[1::2], strict=True):
            t0, t1 = start * _TILE, min(w, stop * _TILE)
            x0, x1 = t0 * fx, (width if t1 == w else t1 * fx)
            # small pixels [s0 - 1, s1 + 1] -> full pixels [(s0 - 1) fy, (s1 + 1) fy)
            block = coefficients[s0 : s1 + 3, t0 : t1 + 3]
            up = cv2.resize(
                block, (block.shape[1] * fx, block.shape[0] * fy), interpolation=cv2.INTER_LINEAR
            )
            coef = up[fy : fy + y1 - y0, fx : fx + x1 - x0]
            pixels = source[y0:y1, x0:x1]
            if pixels.dtype == np.float64:
                pixels = pixels.astype(np.float32)
            with_alpha = cv2.cvtColor(pixels, to_alpha)
            if channels == 1:
                with_alpha = with_alpha[..., [0, 3]]
            product = cv2.multiply(coef, with_alpha, dtype=cv2.CV_32F)
            target = out[
                y0:y1, x0:x1
            ]  # sum of the channels, written in place (faster than cv2.transform)
            np.add(product[..., 0], product[..., 1], out=target)
            for channel in range(2, product.shape[2]):
                target += product[..., channel]
