"""``color``: a sky colour model with smoothness, adaptive colour and connectivity priors.

The algorithm (:func:`color_sky_matte`):

1. Three colour branches, each a soft score in [0, 1]: *blue sky* (hue band with saturation and
   brightness gates), *overcast* (bright, unsaturated white or grey) and *sunset* (warm hues,
   bright enough, only when the top of the frame itself is warm). Their maximum is multiplied by
   a *smoothness* gate (sky has little texture), which keeps white walls with windows, foliage
   and textured ground out.
2. An *adaptive colour model*: the confident sky pixels of the upper part of the frame give a
   mean and covariance in Lab; pixels close to it (Mahalanobis distance) are raised, so hazy or
   oddly tinted skies that fall between branches are still found.
3. A *position and connectivity prior*: sky is one or a few regions that touch the upper part of
   the frame (the centre, for an upward-looking circular fisheye). Large smooth candidate
   regions in the upper half that do not touch it (sky seen through a gap) are kept too.
4. *Morphological clean-up*: an opening removes thin bridges and specks, small holes inside the
   sky (birds, wires, small clouds) are filled, and the result is softened into a probability.

Failure modes
-------------
- Bright, smooth, unsaturated surfaces connected to the sky (white or grey walls, snow, fog,
  water reflecting the sky) are taken as overcast sky.
- Blue objects touching the top of the frame (blue walls, signs, a lake seen from above) are
  taken as blue sky; dark night skies and heavy haze are missed.
- Sky that does not reach the upper part of the frame and is small (through a window, under a
  bridge) is dropped by the connectivity prior.
- Fine structure against the sky (bare branches, wires) is partly filled in by the clean-up.

Seen in the worst overlays of ``scripts/lodo_classical.py --overlays`` (2026-12): most are
indoor rooms, whose white or pastel ceilings and walls touching the top pass as overcast sky;
then sky-free outdoor frames with a pale smooth band at the top (a hazy field, a far shore);
violet dusk skies fall outside every colour branch and are missed.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import register
from ._base import SkyMethod
from ._common import fisheye_outside, gradient_magnitude, grey, keep_connected, soften


def _ramp(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """0 below ``lo``, 1 above ``hi``, linear between (decreasing if ``lo > hi``)."""
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def _band(x: np.ndarray, lo0: float, lo1: float, hi1: float, hi0: float) -> np.ndarray:
    """Trapezoid membership: 0 outside [lo0, hi0], 1 inside [lo1, hi1]."""
    return np.minimum(_ramp(x, lo0, lo1), _ramp(x, hi0, hi1))


def color_sky_matte(
    image: np.ndarray,
    *,
    blue_hue: tuple[float, float, float, float] = (165.0, 190.0, 245.0, 270.0),
    blue_min_sat: tuple[float, float] = (0.06, 0.18),
    blue_min_val: tuple[float, float] = (0.25, 0.45),
    overcast_max_sat: tuple[float, float] = (0.22, 0.10),
    overcast_min_val: tuple[float, float] = (0.45, 0.65),
    warm_hue: tuple[float, float] = (55.0, 300.0),
    warm_min_val: tuple[float, float] = (0.30, 0.50),
    warm_top_min_val: float = 0.55,
    row_prior: tuple[float, float, float] = (0.5, 1.0, 0.5),
    smooth_grad: tuple[float, float] = (0.16, 0.05),
    smooth_sigma: float = 1.0,
    adapt_distance: float = 3.0,
    adapt_weight: float = 0.6,
    top_band: float = 0.08,
    fisheye_seed_radius: float = 0.35,
    island_min_area: float = 0.01,
    island_max_row: float = 0.5,
    open_size: float = 0.006,
    hole_max_area: float = 0.02,
    soften_sigma: float = 0.004,
) -> np.ndarray:
    """Sky probability of every pixel from a colour model and position priors.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), float32 in [0, 1]
        RGB photo (any size; the method calls it at its working size).
    blue_hue : 4 floats, degrees
        Trapezoid of blue-sky hue: 0 below the first and above the last, 1 between the middle two.
    blue_min_sat, blue_min_val : 2 floats
        Ramps (0 at the first, 1 at the second) gating blue sky by HSV saturation and value.
    overcast_max_sat, overcast_min_val : 2 floats
        Ramps for overcast sky: saturation must be low (1 below the second value), value high.
    warm_hue : 2 floats, degrees
        Warm hues are those below the first or above the second (reds, oranges, pinks).
    warm_min_val : 2 floats
        Brightness ramp of the sunset branch.
    warm_top_min_val : float
        The sunset branch is used only when the smooth, saturated pixels of the top band are
        mostly warm and their median brightness is above this (a red brick wall is darker).
    row_prior : 3 floats
        ``(start, end, weight)``: scores are multiplied by a weight falling linearly from 1 at
        row fraction ``start`` to ``weight`` at ``end`` (sky is rarely low in the frame; water
        and walls there need a stronger colour match). Not applied to fisheye frames.
    smooth_grad : 2 floats
        Smoothness gate on the local gradient magnitude (grey levels per pixel): 0 above the
        first value, 1 below the second.
    smooth_sigma : float
        Blur (pixels) before the gradient, so JPEG noise does not count as texture.
    adapt_distance : float
        Mahalanobis distance (in Lab) from the image's own sky colour at which the adaptive
        model's support falls to exp(-1/2).
    adapt_weight : float
        How much the adaptive model can raise a pixel's score (0 switches it off).
    top_band : float
        Height of the band at the top of the frame that seeds the connectivity prior (fraction).
    fisheye_seed_radius : float
        For a circular fisheye frame: radius of the central seed disc, as a fraction of the
        circle's radius.
    island_min_area : float
        Candidate regions not touching the seed are kept if at least this fraction of the frame
        and centred above ``island_max_row`` (fraction of the height).
    island_max_row : float
        See ``island_min_area``.
    open_size : float
        Size of the opening (fraction of the longer side) that removes thin bridges and specks.
    hole_max_area : float
        Holes inside the sky up to this fraction of the frame are filled.
    soften_sigma : float
        Gaussian blur of the final probability, as a fraction of the longer side.

    Returns
    -------
    matte : ndarray, shape (H, W), float32 in [0, 1]
        Sky probability: above 0.5 inside kept sky regions, below it elsewhere.
    """
    image = np.ascontiguousarray(image, dtype=np.float32)
    h, w = image.shape[:2]
    long_side = max(h, w)
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    gray = grey(image)
    grad = cv2.blur(gradient_magnitude(gray, smooth_sigma), (3, 3))
    smooth = _ramp(grad, *smooth_grad)

    blue = _band(hue, *blue_hue) * _ramp(sat, *blue_min_sat) * _ramp(val, *blue_min_val)
    overcast = _ramp(sat, *overcast_max_sat) * _ramp(val, *overcast_min_val)
    score = np.maximum(blue, overcast)

    outside = fisheye_outside(image)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if outside is None:
        seed = yy < max(1.0, top_band * h)
        upper = yy < max(1.0, 0.35 * h)
    else:
        r = np.hypot((yy - (h - 1) / 2) / (h / 2), (xx - (w - 1) / 2) / (w / 2))
        seed = r < fisheye_seed_radius
        upper = r < 0.6

    warm_top = (hue < warm_hue[0]) | (hue > warm_hue[1])
    top_pixels = seed & (sat > 0.15) & (val > warm_min_val[0]) & (smooth > 0.5)
    if (
        top_pixels.sum() > 0.3 * max(seed.sum(), 1)
        and warm_top[top_pixels].mean() > 0.5
        and float(np.median(val[top_pixels])) > warm_top_min_val
    ):
        warm = warm_top.astype(np.float32) * _ramp(val, *warm_min_val)
        score = np.maximum(score, warm)
    score *= smooth
    if outside is None and row_prior[2] < 1.0:
        row = yy / max(h - 1, 1)
        score *= 1.0 - (1.0 - row_prior[2]) * _ramp(row, row_prior[0], row_prior[1])

    # adaptive colour model from the confident sky in the upper part of the frame
    confident = upper & (score > 0.7)
    if adapt_weight > 0 and confident.sum() >= 20:
        lab = cv2.cvtColor(image, cv2.COLOR_RGB2Lab)
        samples = lab[confident].astype(np.float64)
        mean = samples.mean(axis=0)
        cov = np.cov(samples, rowvar=False) + np.eye(3) * 4.0
        diff = lab.reshape(-1, 3) - mean
        d2 = np.einsum("ij,jk,ik->i", diff, np.linalg.inv(cov), diff).reshape(h, w)
        support = np.exp(-0.5 * d2 / adapt_distance**2).astype(np.float32)
        score = np.maximum(score, adapt_weight * support * smooth + (1 - adapt_weight) * score)

    if outside is not None:
        score[outside] = 0.0

    hard = score > 0.5
    k = max(1, round(open_size * long_side))
    if k > 1 and min(h, w) > 2 * k:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        hard = cv2.morphologyEx(hard.astype(np.uint8), cv2.MORPH_OPEN, kernel).astype(bool)
    kept = keep_connected(hard, seed)
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(
        (hard & ~kept).astype(np.uint8), connectivity=8
    )
    for label in range(1, count):
        big = stats[label, cv2.CC_STAT_AREA] >= island_min_area * h * w
        high = centroids[label][1] < island_max_row * h if outside is None else True
        if big and high:
            kept |= labels == label

    # fill small holes inside the sky (components of non-sky not touching the border)
    holes = ~kept
    if outside is not None:
        holes &= ~outside
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        holes.astype(np.uint8), connectivity=4
    )
    if count > 1:
        border = np.zeros(count, bool)
        for edge in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
            border[edge] = True
        small = (stats[:, cv2.CC_STAT_AREA] <= hole_max_area * h * w) & ~border
        small[0] = False
        kept |= small[labels]

    prob = np.where(kept, 0.5 + 0.5 * np.maximum(score, 0.6), 0.45 * np.minimum(score, 1.0))
    return soften(prob, soften_sigma)


@register
class ColorMethod(SkyMethod):
    """Sky colour model (blue, overcast, sunset) with smoothness and connectivity priors.

    Keyword arguments are passed to :func:`color_sky_matte`.
    """

    name = "color"
    description = "sky colour model (blue, overcast, sunset) connected to the top of the frame"
    working_size = 384
    algorithm = staticmethod(color_sky_matte)
