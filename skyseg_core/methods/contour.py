"""``contour``: the largest foreground contour, with the sky seen through its holes kept.

The algorithm (:func:`contour_sky_matte`):

1. A blue-weighted grey image (``channel_weights``: blue sky and white clouds both come out
   bright, foliage and most ground dark), Gaussian blur, Otsu threshold into two classes.
2. The bright class is the sky class. Only when the dark class fills the top band and is
   smooth there (a night sky) is the dark class the sky class instead. (Taking the class that
   merely dominates the top band, as this method did before, swapped the classes in every
   street canyon and under every overhanging roof or tree: the whole frame became sky.)
   Textured pixels (blurred gradient above ``max_pixel_texture``: facades, foliage, grass)
   leave the sky class.
3. The other class is the foreground. Its largest outer contour (and any other contour larger
   than ``min_extra_area``) is filled: that is the foreground silhouette. The ground is taken
   to continue below the frame, so foreground pieces that reach the bottom edge join into one
   silhouette.
4. Smoothing: the silhouette is closed and opened with an elliptic kernel, which removes
   specks, small gaps and thin spurs.
5. Holes: the silhouette's inner contours (hierarchy from ``cv2.RETR_CCOMP``) that belong to
   the sky class, are large enough and have the colour of the main sky are cut out again, so
   sky seen through an arch, between branches or under a bridge stays sky.
6. The sky is what remains of the sky class outside the foreground, kept only where it
   touches the top band or lies in a hole of the foreground. A "sky" whose median colour is
   yellowish (Lab b above ``max_sky_b``: a lit wall or ceiling) is dropped; edges are softened.

Failure modes
-------------
From the worst overlays of ``scripts/lodo_classical.py --overlays`` over all shared data:

- Indoor rooms and sky-free frames with a bright, smooth, neutral or cool top (white walls,
  ceilings, a pale field) are taken as sky: nothing in two grey levels tells a wall from an
  overcast sky.
- A deep blue sky under bright clouds falls into the dark class with the ground: only the
  clouds are kept, or the blue parts are lost between them.
- A sky with a warm cast (hazy, evening light) is dropped whole by the yellowness test.
- Night frames: when the dark class fills the top, everything dark is sky, including the
  dark ground; lit windows and lamps are the only foreground.
- A foreground made of several separate objects smaller than ``min_extra_area`` (a row of
  distant trees) is not filled and their gaps are kept as sky.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..depth import to_codes
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
    channel_weights: tuple[float, float, float] = (0.2, 0.3, 0.5),
    max_sky_b: float = 5.0,
    dark_sky_top: float = 0.9,
    night_max_texture: float = 0.02,
    max_pixel_texture: float = 0.1,
    texture_sigma: float = 0.005,
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
        Height of the top band (fraction of the height) that seeds the sky region (and decides
        whether the dark class is a night sky).
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
    channel_weights : 3 floats
        Weights of R, G and B in the grey image that is thresholded (normalised to sum 1).
    max_sky_b : float
        The sky is dropped whole if its median Lab b (yellowness, OpenCV float Lab) is above
        this: a bright yellowish-white region is a lit wall or ceiling, not sky.
    dark_sky_top : float
        The dark class is the sky class only if it covers at least this fraction of the top
        band (the centre disc of a fisheye frame)...
    night_max_texture : float
        ...and the median gradient magnitude of its pixels there is below this (grey levels
        per pixel in [0, 1]).
    max_pixel_texture : float
        Pixels whose gradient magnitude, blurred by ``texture_sigma``, is above this are not
        sky (facades, foliage, grass).
    texture_sigma : float
        Blur of the gradient magnitude for ``max_pixel_texture``, as a fraction of the longer
        side.
    soften_sigma : float
        Gaussian blur of the result, as a fraction of the longer side.

    Returns
    -------
    matte : ndarray, shape (H, W), float32 in [0, 1]
    """
    image = np.ascontiguousarray(image, dtype=np.float32)
    h, w = image.shape[:2]
    long_side = max(h, w)
    weights = np.asarray(channel_weights, np.float32) / np.float32(sum(channel_weights))
    gray = np.ascontiguousarray(image @ weights)
    sigma = blur_sigma * long_side
    if sigma >= 0.5:
        gray = cv2.GaussianBlur(gray, (0, 0), sigma)
    gray8 = to_codes(gray, np.uint8)
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
    # sky is the bright class, unless the dark class fills the top and is smooth (a night sky)
    dark_top = ~bright & seed
    night = (
        dark_top.mean() / seed.mean() >= dark_sky_top
        and float(np.median(edges[dark_top])) < night_max_texture
    )
    sky_class = ~bright if night else bright
    texture = cv2.GaussianBlur(edges, (0, 0), max(0.5, texture_sigma * long_side))
    sky_class &= texture < max_pixel_texture
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
        largest = max(outer, key=areas.__getitem__)
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
    if (
        sky.any()
        and float(np.median(cv2.cvtColor(image, cv2.COLOR_RGB2Lab)[..., 2][sky])) > max_sky_b
    ):
        sky[:] = False  # a yellowish-white "sky": a lit wall or ceiling
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
