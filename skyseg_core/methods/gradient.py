"""``gradient``: sky border detection after Shen & Wang (2013).

Y. Shen and Q. Wang, "Sky Region Detection in a Single Image for Autonomous Ground Robot
Navigation", International Journal of Advanced Robotic Systems 10(362), 2013.

The algorithm (:func:`gradient_sky_matte`):

1. Sobel gradient magnitude of the grey image.
2. For a gradient threshold ``t``, each column's sky border ``b(x)`` is the first row, from
   the top, whose gradient exceeds ``t``; everything above it is sky.
3. ``t`` is searched over ``[threshold_min, threshold_max]`` and the border that maximises the
   energy ``J = 1 / (gamma |S_s| + |S_g| + gamma |l_s| + |l_g|)`` is kept, where ``S_s``, ``S_g``
   are the RGB covariance matrices of the sky and ground pixels, ``|.|`` their determinants and
   ``l`` their largest eigenvalues (homogeneous sky and ground score high). The covariances come
   from per-column running sums, so each threshold costs O(width).
4. *No-sky test*: a border that is on average very close to the top, or close to the top and
   very ragged, means there is no sky.
5. *Fake-sky correction*: if the border jumps a lot between neighbouring columns (buildings or
   trees taken as sky), the sky pixels are re-clustered into two groups with K-means, the group
   least like the ground is taken as the true sky, and every column whose pixels above the
   border are mostly closer (Mahalanobis) to the ground than to that sky loses its sky.

Failure modes
-------------
- Only one border per column: sky seen below a foreground object (under a bridge, between
  branches) is always missed, and an object hanging into the sky from the top (a branch, a
  roof edge at the top of the frame) removes all the sky under it in its column.
- Strong texture in the sky (sharp cloud edges, the sun, contrails, JPEG blocks) stops the
  border early; a foreground with a soft edge into a hazy sky lets it run too deep.
- Built for a forward-looking, roughly level camera; upward fisheye frames and tilted horizons
  with sky touching the sides are outside its model: on the fisheye photos it finds no sky at
  all (0.00 leave-one-dataset-out).
- Seen in the worst overlays of ``scripts/lodo_classical.py --overlays`` (2026-12): dusk and
  night webcam frames and hazy skies whose border is faint lose all their sky to the no-sky
  test; masts and wires reaching the top stop the border at row 0 in their columns; a
  sky-free frame with a smooth top (a lawn, a wall) is taken as sky down to its first edge.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import register
from ._base import SkyMethod
from ._common import fisheye_outside, gradient_magnitude, grey, soften


def _running_moments(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column running sums from the top: (H+1, W, 3) of x and (H+1, W, 6) of x x^T terms."""
    h, w = image.shape[:2]
    x = image.astype(np.float64)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    second = np.stack([r * r, r * g, r * b, g * g, g * b, b * b], axis=-1)
    s1 = np.zeros((h + 1, w, 3))
    s2 = np.zeros((h + 1, w, 6))
    np.cumsum(x, axis=0, out=s1[1:])
    np.cumsum(second, axis=0, out=s2[1:])
    return s1, s2


def _covariance(n: float, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    mean = s1 / n
    m2 = s2 / n
    cov = np.empty((3, 3))
    idx = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]
    for k, (i, j) in enumerate(idx):
        cov[i, j] = cov[j, i] = m2[k] - mean[i] * mean[j]
    return cov


def border_energy(border: np.ndarray, s1: np.ndarray, s2: np.ndarray, gamma: float = 2.0) -> float:
    """Shen & Wang's energy ``J`` of a sky border (rows per column) from running sums.

    Returns 0 when either side has fewer than 4 pixels (the paper assumes both exist; frames
    without any structure are handled before the search).
    """
    cols = np.arange(border.size)
    h = s1.shape[0] - 1
    n_sky = float(border.sum())
    n_ground = float(h * border.size - n_sky)
    if n_sky < 4 or n_ground < 4:
        return 0.0
    sky1 = s1[border, cols].sum(axis=0)
    sky2 = s2[border, cols].sum(axis=0)
    all1 = s1[h].sum(axis=0)
    all2 = s2[h].sum(axis=0)
    cov_s = _covariance(n_sky, sky1, sky2)
    cov_g = _covariance(n_ground, all1 - sky1, all2 - sky2)
    det_s, det_g = abs(np.linalg.det(cov_s)), abs(np.linalg.det(cov_g))
    eig_s, eig_g = np.linalg.eigvalsh(cov_s)[-1], np.linalg.eigvalsh(cov_g)[-1]
    return float(1.0 / (gamma * det_s + det_g + gamma * abs(eig_s) + abs(eig_g) + 1e-12))


def optimal_border(
    image: np.ndarray,
    gradient: np.ndarray,
    threshold_min: float = 5.0,
    threshold_max: float = 600.0,
    steps: int = 120,
    gamma: float = 2.0,
) -> np.ndarray:
    """The sky border (first non-sky row per column) that maximises the energy ``J``."""
    h, w = gradient.shape
    s1, s2 = _running_moments(image * 255.0)
    peak = np.maximum.accumulate(gradient, axis=0)
    best, best_energy = np.full(w, h, np.int64), -1.0
    for t in np.linspace(threshold_min, threshold_max, max(2, steps)):
        border = np.count_nonzero(peak <= t, axis=0)
        energy = border_energy(border, s1, s2, gamma)
        if energy > best_energy:
            best, best_energy = border, energy
    return best


def has_no_sky(
    border: np.ndarray, height: int, mean_min: float, ragged_mean_max: float, ragged_step: float
) -> bool:
    """Shen & Wang's no-sky test on a border (rows per column)."""
    mean = float(border.mean())
    ragged = float(np.abs(np.diff(border)).mean()) if border.size > 1 else 0.0
    return mean < mean_min * height or (
        mean < ragged_mean_max * height and ragged > ragged_step * height
    )


def correct_fake_sky(
    image: np.ndarray, border: np.ndarray, seed: int = 0, min_pixels: int = 12
) -> np.ndarray:
    """Fake-sky correction: K-means (k=2) on the sky pixels, keep the cluster least like the
    ground, and clear the sky of columns whose sky pixels are mostly nearer to the ground."""
    h, w = image.shape[:2]
    rows = np.arange(h)[:, None]
    sky_mask = rows < border[None, :]
    sky = image[sky_mask].astype(np.float32)
    ground = image[~sky_mask].astype(np.float32)
    if len(sky) < min_pixels or len(ground) < min_pixels:
        return border
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1e-3)
    cv2.setRNGSeed(seed)
    _, labels, _ = cv2.kmeans(sky, 2, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
    labels = labels.ravel()

    def stats(x):
        mean = x.mean(axis=0)
        cov = np.cov(x, rowvar=False) + np.eye(3) * 1e-4
        return mean, np.linalg.pinv(cov)

    mu_g, icov_g = stats(ground)
    candidates = [
        stats(sky[labels == k]) for k in (0, 1) if np.count_nonzero(labels == k) >= min_pixels
    ]
    if not candidates:
        return border

    def maha(x, mu, icov):
        d = x - mu
        return np.einsum("...i,ij,...j->...", d, icov, d)

    mu_s, icov_s = max(candidates, key=lambda c: maha(c[0], mu_g, c[1]))
    flat = image.reshape(-1, 3).astype(np.float32)
    nearer_sky = (maha(flat, mu_s, icov_s) < maha(flat, mu_g, icov_g)).reshape(h, w)
    count = np.count_nonzero(nearer_sky & sky_mask, axis=0)
    corrected = border.copy()
    corrected[count < border / 2.0] = 0
    return corrected


def gradient_sky_matte(
    image: np.ndarray,
    *,
    threshold_min: float = 5.0,
    threshold_max: float = 600.0,
    steps: int = 120,
    gamma: float = 2.0,
    blur_sigma: float = 0.0,
    flat_gradient: float = 20.0,
    no_sky_mean: float = 1 / 30,
    no_sky_ragged_mean: float = 1 / 4,
    no_sky_ragged_step: float = 1 / 50,
    fake_sky_jump: float = 1 / 3,
    soften_sigma: float = 0.004,
    seed: int = 0,
) -> np.ndarray:
    """Sky matte from Shen & Wang's per-column sky border.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), float32 in [0, 1]
        RGB photo at the method's working size.
    threshold_min, threshold_max : float
        Range of gradient thresholds searched (Sobel magnitude of 8-bit grey levels; the
        paper's 5 and 600).
    steps : int
        Number of thresholds tried.
    gamma : float
        Weight of the sky terms in the energy (the paper's 2).
    blur_sigma : float
        Gaussian blur (pixels) before the gradient; 0 as in the paper.
    flat_gradient : float
        If 99 % of the gradient magnitudes are below this, the frame has no structure at all
        (no ground to find a border to): it is all sky if bright, else no sky.
    no_sky_mean : float
        No sky if the mean border is above this fraction of the height...
    no_sky_ragged_mean, no_sky_ragged_step : float
        ...or if it is above ``no_sky_ragged_mean`` of the height and the mean jump between
        neighbouring columns exceeds ``no_sky_ragged_step`` of the height.
    fake_sky_jump : float
        A jump between neighbouring columns larger than this fraction of the height triggers
        the fake-sky correction.
    soften_sigma : float
        Gaussian blur of the mask, as a fraction of the longer side (a soft edge).
    seed : int
        Seed of the K-means initialisation (results are deterministic).

    Returns
    -------
    matte : ndarray, shape (H, W), float32 in [0, 1]
    """
    image = np.ascontiguousarray(image, dtype=np.float32)
    h, w = image.shape[:2]
    gray = grey(image) * np.float32(255.0)
    gradient = gradient_magnitude(gray, blur_sigma)
    if float(np.percentile(gradient, 99)) < flat_gradient:
        # no structure anywhere (the paper assumes a ground): one region, sky if bright
        return np.full((h, w), 1.0 if float(gray.mean()) > 0.3 * 255 else 0.0, np.float32)
    border = optimal_border(image, gradient, threshold_min, threshold_max, steps, gamma)
    if has_no_sky(border, h, no_sky_mean, no_sky_ragged_mean, no_sky_ragged_step):
        return np.zeros((h, w), np.float32)
    if w > 1 and np.abs(np.diff(border)).max() > fake_sky_jump * h:
        border = correct_fake_sky(image, border, seed=seed)
    matte = (np.arange(h)[:, None] < border[None, :]).astype(np.float32)
    outside = fisheye_outside(image)
    if outside is not None:  # not the paper's geometry; at least the corners are not sky
        matte[outside] = 0.0
    return soften(matte, soften_sigma)


@register
class GradientMethod(SkyMethod):
    """Shen & Wang (2013) sky border: gradient threshold chosen by an energy maximum.

    Keyword arguments are passed to :func:`gradient_sky_matte`.
    """

    name = "gradient"
    description = "per-column sky border from a gradient threshold (Shen & Wang 2013)"
    working_size = 320
    algorithm = staticmethod(gradient_sky_matte)
