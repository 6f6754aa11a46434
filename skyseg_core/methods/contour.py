"""``contour``: the largest foreground contour, with the sky seen through its holes kept.

The algorithm (:func:`contour_sky_matte`):

1. Grey image, Gaussian blur, Otsu threshold into two classes. The class that dominates the
   top band of the frame is the sky class (bright by day, dark at night or against a bright
   foreground).
2. The other class is the foreground. Its largest outer contour (and any other contour larger
   than ``min_extra_area``) is filled: that is the foreground silhouette.
3. Smoothing: the silhouette is closed and opened with an elliptic kernel, which removes
   specks, small gaps and thin spurs.
   The ground is taken to continue below the frame, so foreground pieces that reach the
   bottom edge join into one silhouette.
4. Holes: the silhouette's inner contours (hierarchy from ``cv2.RETR_CCOMP``) that belong to
   the sky class, are large enough and have the colour of the main sky are cut out again, so
   sky seen through an arch, between branches or under a bridge stays sky.
5. The sky is what remains of the sky class outside the foreground, kept only where it
   touches the top band or lies in a hole of the foreground; edges are softened.

Failure modes
-------------
- Two grey levels only: a bright foreground (white buildings, snow, sunlit sand) falls into
  the sky class and, if it touches the sky, stays sky; a dark sky part (storm clouds, the blue
  of a polarised sky) falls into the foreground class.
- A foreground made of several separate objects smaller than ``min_extra_area`` (a row of
  distant trees) is not filled and their gaps are kept as sky.
- The top band decides which class is sky: a frame whose top is mostly foreground (a ceiling,
  a tree canopy) has its classes swapped.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import register
from ._base import SkyMethod
from ._common import fisheye_outside, gradient_magnitude, grey, keep_connected, soften


def contour_sky_matte(
    image: np.ndarray,
    *,
    blur_sigma: float = 0.004,
    top_band: float = 0.05,
    min_class_edge: float = 0.04,
    min_extra_area: float = 0.05,
    smooth_size: float = 0.012,
    min_hole_area: float = 0.0005,
    hole_colour_distance: float = 15.0,
    soften_sigma: float = 0.004,
) -> np.ndarray:
    """Sky matte from Otsu's two classes and the largest foreground contour.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), float32 in [0, 1]
        RGB photo at the method's working size.
    blur_sigma : float
        Gaussian blur before the threshold, as a fraction of the longer side.
    top_band : float
        Height of the top band (fraction of the height) that decides which class is sky and
        seeds the sky region.
    min_class_edge : float
        If the median Sobel magnitude along the border between Otsu's two classes is below
        this, the split is a smooth ramp rather than an edge and the frame is one class: all
        sky if it is bright and smooth, else no sky.
    min_extra_area : float
        Foreground contours other than the largest are filled too if at least this fraction of
        the frame.
    smooth_size : float
        Kernel of the closing and opening that smooth the silhouette (fraction of the longer
        side).
    min_hole_area : float
        Holes in the foreground smaller than this fraction of the frame are not kept as sky.
    hole_colour_distance : float
        A hole is kept as sky only if its median colour is within this Lab distance (Delta E)
        of the median colour of the sky connected to the top (a bright road between two
        buildings is a hole too, but not sky-coloured).
    soften_sigma : float
        Gaussian blur of the result, as a fraction of the longer side.

    Returns
    -------
    matte : ndarray, shape (H, W), float32 in [0, 1]
    """
    image = np.ascontiguousarray(image, dtype=np.float32)
    h, w = image.shape[:2]
    long_side = max(h, w)
    gray = grey(image)
    sigma = blur_sigma * long_side
    if sigma >= 0.5:
        gray = cv2.GaussianBlur(gray, (0, 0), sigma)
    gray8 = np.round(gray * 255.0).astype(np.uint8)
    _, bright = cv2.threshold(gray8, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = bright.astype(bool)
    edges = gradient_magnitude(gray)
    one_class = bright.all() or not bright.any()
    if not one_class:
        b8 = bright.astype(np.uint8)
        boundary = cv2.dilate(b8, np.ones((3, 3), np.uint8)) != cv2.erode(
            b8, np.ones((3, 3), np.uint8)
        )
        one_class = float(np.median(edges[boundary])) < min_class_edge
    if one_class:
        # no edge between the classes (a smooth ramp): all sky if bright and smooth, else none
        sky_like = (
            float(gray.mean()) > 0.3 and float(np.median(gradient_magnitude(grey(image)))) < 0.05
        )
        return np.full((h, w), 1.0 if sky_like else 0.0, np.float32)

    outside = fisheye_outside(image)
    if outside is None:
        seed = np.zeros((h, w), bool)
        seed[: max(1, round(top_band * h))] = True
    else:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        seed = np.hypot((yy - (h - 1) / 2) / (h / 2), (xx - (w - 1) / 2) / (w / 2)) < 0.35
    sky_class = bright if bright[seed].mean() >= 0.5 else ~bright
    foreground = ~sky_class
    if outside is not None:
        foreground |= outside
        sky_class &= ~outside

    # the ground continues below the frame: a foreground row under the image joins the
    # pieces of foreground that reach the bottom into one contour
    fg8 = np.zeros((h + 2, w), np.uint8)
    fg8[:h] = foreground
    fg8[h:] = 1 if outside is None else 0
    contours, hierarchy = cv2.findContours(fg8, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    silhouette = np.zeros((h + 2, w), np.uint8)
    holes = []
    if contours:
        hierarchy = hierarchy[0]
        outer = [i for i in range(len(contours)) if hierarchy[i][3] < 0]
        areas = {i: cv2.contourArea(contours[i]) + len(contours[i]) for i in outer}
        largest = max(outer, key=areas.get)
        chosen = [i for i in outer if i == largest or areas[i] >= min_extra_area * h * w]
        for i in chosen:
            cv2.drawContours(silhouette, contours, i, 1, thickness=cv2.FILLED)
            child = hierarchy[i][2]
            while child >= 0:
                holes.append(child)
                child = hierarchy[child][0]
    silhouette = silhouette[:h]
    k = max(1, round(smooth_size * long_side))
    if k > 1 and min(h, w) > 2 * k:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        silhouette = cv2.morphologyEx(silhouette, cv2.MORPH_CLOSE, kernel)
        silhouette = cv2.morphologyEx(silhouette, cv2.MORPH_OPEN, kernel)
    main_sky = keep_connected(sky_class & ~silhouette.astype(bool), seed)
    hole_sky = np.zeros((h, w), bool)
    reference = main_sky if main_sky.any() else sky_class & seed
    if holes and reference.any():
        lab = cv2.cvtColor(image, cv2.COLOR_RGB2Lab)
        sky_colour = np.median(lab[reference], axis=0)
        for i in holes:
            if cv2.contourArea(contours[i]) < min_hole_area * h * w:
                continue
            hole = np.zeros((h + 2, w), np.uint8)
            cv2.drawContours(hole, contours, i, 1, thickness=cv2.FILLED)
            hole = hole[:h].astype(bool) & sky_class
            if (
                hole.any()
                and np.linalg.norm(np.median(lab[hole], axis=0) - sky_colour)
                <= hole_colour_distance
            ):
                hole_sky |= hole
    sky = main_sky | hole_sky
    return soften(sky, soften_sigma)


@register
class ContourMethod(SkyMethod):
    """Otsu threshold and the largest foreground contour; sky seen through holes is kept.

    Keyword arguments are passed to :func:`contour_sky_matte`.
    """

    name = "contour"
    description = "Otsu threshold and largest foreground contour, keeping sky seen through holes"
    working_size = 384
    algorithm = staticmethod(contour_sky_matte)
